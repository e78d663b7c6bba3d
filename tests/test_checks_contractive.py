import pytest
import torch

from aelab.checks import contractive
from aelab.checks._core import ExerciseFailed

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading


def correct_penalty(code, weight):
    return ((code * (1 - code)) ** 2 @ weight.pow(2).sum(dim=1)).mean()


def correct_mc(encode, x, sigma, noise):
    h0 = encode(x)
    return torch.stack([(encode(x + sigma * z) - h0).pow(2).sum(dim=1) for z in noise]).mean(0)


def stub(*args):
    raise NotImplementedError()


def test_penalty_correct_passes():
    assert contractive.check_contractive_penalty(correct_penalty).passed


def test_penalty_stub_not_attempted(capsys):
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        contractive.check_contractive_penalty(stub)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda h, w: ((h * (1 - h)) @ w.pow(2).sum(dim=1)).mean(), "missing square on h(1-h)"),
    (lambda h, w: ((h * (1 - h)) ** 2 @ w.pow(2).sum(dim=0)).mean(), "column norms instead of row norms"),
    (lambda h, w: (h ** 2 @ w.pow(2).sum(dim=1)).mean(), "h instead of h(1-h)"),
    (lambda h, w: ((h * (1 - h)) ** 2 @ w.pow(2).sum(dim=1)).sum(), "sum over the batch instead of mean"),
    (lambda h, w: (h * (1 - h)) ** 2 @ w.pow(2).sum(dim=1), "forgot the mean over the batch"),
    (lambda h, w: ((h * (1 - h)) ** 2 @ w.pow(2).sum(dim=1)).sqrt().mean(), "Frobenius norm not squared"),
])
def test_penalty_mistakes_recognized(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=f"recognized mistake: {mistake}".replace("(", r"\(").replace(")", r"\)")):
        contractive.check_contractive_penalty(wrong)


def test_penalty_unknown_error_reported():
    with pytest.raises(ExerciseFailed, match="wrong value"):
        contractive.check_contractive_penalty(lambda h, w: correct_penalty(h, w) * 1.5)


def test_mc_correct_passes():
    assert contractive.check_stochastic_contraction(correct_mc).passed


def test_mc_stub_not_attempted(capsys):
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        contractive.check_stochastic_contraction(stub)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda e, x, s, z: correct_mc(e, x, 1.0, z), "noise not scaled by sigma"),
    (lambda e, x, s, z: correct_mc(e, x, s ** 2, z), "sigma squared used as the standard deviation"),
    (lambda e, x, s, z: correct_mc(e, x, s, z) / s ** 2, "divided by sigma"),
    (lambda e, x, s, z: torch.stack([(e(x + s * zi) - e(x)).norm(dim=1) for zi in z]).mean(0), "norm not squared"),
    (lambda e, x, s, z: torch.stack([(e(x + s * zi) - e(x)).pow(2).mean(dim=1) for zi in z]).mean(0),
     "mean over code units instead of sum"),
    (lambda e, x, s, z: correct_mc(e, x, s, z).mean(), "averaged over the batch too"),
])
def test_mc_mistakes_recognized(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=f"recognized mistake: {mistake}"):
        contractive.check_stochastic_contraction(wrong)
