"""The checks of notebook 08 pass the reference, name each common mistake, and skip stubs."""

import pytest
import torch

from aelab import embed
from aelab.checks import latent
from aelab.checks._core import ExerciseFailed

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading


def stub(*args):
    raise NotImplementedError()


# --- knn_accuracy -------------------------------------------------------------------------------

def test_knn_the_packages_own_function_is_not_an_answer():
    # the notebook's solution passing is tests/test_exercises.py's job; handing in aelab's own is rejected
    with pytest.raises(ExerciseFailed, match="handed in"):
        latent.check_knn_accuracy(embed.knn_accuracy)


def test_knn_stub_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        latent.check_knn_accuracy(stub)


def test_knn_self_included_written_as_a_student_would():
    def student(z, labels, k):
        d = torch.cdist(z, z)
        idx = d.argsort(dim=1)[:, :k]
        pred = torch.mode(labels[idx], dim=1).values
        return (pred == labels).float().mean().item()
    with pytest.raises(ExerciseFailed, match="own neighbour"):
        latent.check_knn_accuracy(student)


def test_knn_other_correct_implementation_passes():
    def student(z, labels, k):
        d = torch.cdist(z, z)
        d.fill_diagonal_(float("inf"))
        idx = d.argsort(dim=1)[:, :k]
        pred = torch.mode(labels[idx], dim=1).values
        return (pred == labels).float().mean().item()
    assert latent.check_knn_accuracy(student).passed


# --- anomaly_auc --------------------------------------------------------------------------------

def test_auc_reference_is_not_an_answer():
    with pytest.raises(ExerciseFailed, match="handed in"):
        latent.check_anomaly_auc(latent.check_anomaly_auc.reference)


def test_auc_stub_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        latent.check_anomaly_auc(stub)


def test_auc_pairwise_student_passes():
    def student(x, x_hat, is_anomaly):
        s = ((x - x_hat) ** 2).flatten(1).mean(1)
        diff = s[is_anomaly][:, None] - s[~is_anomaly][None, :]
        return ((diff > 0).float() + 0.5 * (diff == 0).float()).mean().item()
    assert latent.check_anomaly_auc(student).passed


# --- latent_grid --------------------------------------------------------------------------------

def test_grid_the_packages_own_function_is_not_an_answer():
    with pytest.raises(ExerciseFailed, match="handed in"):
        latent.check_latent_grid(embed.latent_grid)


def test_grid_stub_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        latent.check_latent_grid(stub)


@pytest.mark.parametrize("wrong, name", [
    (latent._grid_upside_down, "upside down"),
    (latent._grid_transposed, "rows and columns swapped"),
    (latent._grid_no_endpoint, "end point missing"),
])
def test_grid_mistakes_recognized(wrong, name):
    with pytest.raises(ExerciseFailed, match=f"recognized mistake: {name}"):
        latent.check_latent_grid(wrong)


# --- contaminated_auc ---------------------------------------------------------------------------

def test_contaminated_reference_is_not_an_answer():
    with pytest.raises(ExerciseFailed, match="handed in"):
        latent.check_contaminated_auc(latent.check_contaminated_auc.reference)


def test_contaminated_stub_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        latent.check_contaminated_auc(stub)


def test_contaminated_other_correct_form_passes():
    assert latent.check_contaminated_auc(lambda auc, f: auc - f * (auc - 0.5)).passed


@pytest.mark.parametrize("wrong, name", [
    (lambda auc, f: (1 - f) * auc + f, "copies counted as caught"),
    (lambda auc, f: (1 - f) * auc, "copies counted as missed"),
    (lambda auc, f: f * auc + (1 - f) / 2, "weights swapped"),
    (lambda auc, f: auc, "AUC unchanged"),
    (lambda auc, f: (1 - f) * auc + f * (1 - auc), "copies scored as 1 - AUC"),
])
def test_contaminated_mistakes_are_named(wrong, name):
    with pytest.raises(ExerciseFailed, match=name):
        latent.check_contaminated_auc(wrong)


def test_contaminated_formula_is_the_expected_auc_of_copies():
    """The identity the exercise asks for, checked by simulation: copies of normal scores average 1/2."""
    g = torch.Generator().manual_seed(0)
    normal = torch.randint(0, 20, (300,), generator=g).double()          # ties on purpose
    anomaly = torch.randint(5, 25, (100,), generator=g).double()
    is_anomaly = torch.cat([torch.ones(100, dtype=torch.bool), torch.zeros(300, dtype=torch.bool)])
    auc = embed.roc_auc(torch.cat([anomaly, normal]), is_anomaly)
    draws = []
    for _ in range(400):
        copied = anomaly.clone()
        which = torch.randperm(100, generator=g)[:30]
        copied[which] = normal[torch.randint(0, 300, (30,), generator=g)]
        draws.append(embed.roc_auc(torch.cat([copied, normal]), is_anomaly))
    draws = torch.tensor(draws)
    predicted = latent.check_contaminated_auc.reference(auc, 0.3)
    assert abs(float(draws.mean()) - predicted) < 4 * float(draws.std()) / 400 ** 0.5
