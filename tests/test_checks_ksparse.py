import re

import pytest
import torch

from aelab.activations import AnnealK, TopK, top_k
from aelab.checks import ExerciseFailed, ksparse

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading


def _largest_abs(z, k):
    index = z.abs().topk(k, dim=1).indices
    return torch.zeros_like(z).scatter(1, index, z.gather(1, index))


def _batch_threshold(z, k):
    cut = z.flatten().sort(descending=True).values[k * len(z) - 1]
    return z * (z >= cut)


def _over_batch(z, k):
    values, index = z.topk(k, dim=0)
    return torch.zeros_like(z).scatter(0, index, values)


def _own_top_k(z, k):  # a student's top-k (the check rejects aelab's own top_k as an answer)
    values, index = z.topk(k, dim=1)
    return torch.zeros_like(z).scatter(1, index, values)


def _stub(*args):
    raise NotImplementedError()


# ---- exercise 1: top-k
def test_top_k_correct_answers_pass():
    assert ksparse.check_top_k(_own_top_k).passed

    def with_mask(z, k):  # exactly the k positions topk returns, even when values tie
        mask = torch.zeros_like(z, dtype=torch.bool).scatter(1, z.topk(k, dim=1).indices, True)
        return z * mask

    assert ksparse.check_top_k(with_mask).passed


def test_top_k_mask_from_the_kth_value_keeps_ties_and_is_rejected():
    with pytest.raises(ExerciseFailed, match="recognized mistake: mask from the k-th value keeps ties"):
        ksparse.check_top_k(lambda z, k: z * (z >= z.topk(k, dim=1).values[:, -1:]))


@pytest.mark.parametrize("wrong, mistake", [
    (lambda z, k: _own_top_k(z, k + 1), "keeps k+1 units"),
    (lambda z, k: -_own_top_k(-z, k), "keeps the k smallest"),
    (_largest_abs, "keeps the k largest in absolute value"),
    (_batch_threshold, "thresholds instead of top-k per sample"),
    (lambda z, k: torch.relu(z), "ReLU threshold at 0"),
    (_over_batch, "operates over the batch dimension"),
])
def test_top_k_recognizes_mistakes(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=re.escape(f"recognized mistake: {mistake}")):
        ksparse.check_top_k(wrong)


def test_top_k_detached_output_fails_on_the_gradient():
    with pytest.raises(ExerciseFailed, match="no gradient"):
        ksparse.check_top_k(lambda z, k: _own_top_k(z, k).detach())


def test_top_k_rejects_the_packages_own_top_k():
    with pytest.raises(ExerciseFailed, match="handed in"):
        ksparse.check_top_k(top_k)
    for student in (lambda z, k: top_k(z, k), lambda z, k: TopK(k)(z),
                    lambda z, k: ksparse.check_top_k.reference(z, k)):
        with pytest.raises(ExerciseFailed, match="runs `aelab.activations.top_k`"):
            ksparse.check_top_k(student)


def test_schedule_and_units_reject_the_packages_hook_and_reference():
    def by_hook(epoch, start, end, anneal_epochs):
        layer = TopK(start)
        AnnealK(layer, start, end, anneal_epochs)(epoch, None, None)
        return layer.k
    with pytest.raises(ExerciseFailed, match="AnnealK"):
        ksparse.check_k_schedule(by_hook)
    with pytest.raises(ExerciseFailed, match="units_with_gradient"):
        ksparse.check_units_with_gradient(lambda z, k: ksparse.units_with_gradient(z, k))


def test_top_k_error_is_reported():
    with pytest.raises(ExerciseFailed, match="raised"):
        ksparse.check_top_k(lambda z, k: z.topk(k, dim=2))


def test_top_k_stub_is_not_attempted(capsys):
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        ksparse.check_top_k(_stub)


# ---- exercise 2: the annealing schedule
def test_schedule_correct_answers_pass():
    assert ksparse.check_k_schedule(lambda e, s, t, a: round(s + (t - s) * min(1, e / a))).passed
    assert ksparse.check_k_schedule(lambda e, s, t, a: int(s + (t - s) * min(1, e / a))).passed  # truncation is fine


@pytest.mark.parametrize("wrong, mistake", [
    (lambda e, s, t, a: round(s + (t - s) * min(1, (e + 1) / a)), "reaches the target one epoch early"),
    (lambda e, s, t, a: round(s + (t - s) * e / a), "does not stop at the target"),
    (lambda e, s, t, a: round(t + (s - t) * min(1, e / a)), "goes the wrong way"),
    (lambda e, s, t, a: s if e < a else t, "steps down at the end instead of annealing"),
])
def test_schedule_recognizes_mistakes(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=re.escape(f"recognized mistake: {mistake}")):
        ksparse.check_k_schedule(wrong)


def test_schedule_non_integer_k_fails():
    with pytest.raises(ExerciseFailed, match="whole number"):
        ksparse.check_k_schedule(lambda e, s, t, a: s + (t - s) * min(1, e / a))


def test_schedule_stub_is_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        ksparse.check_k_schedule(_stub)


# ---- exercise 3: which filters get a gradient from a batch
def _selected(z, k):
    return torch.zeros_like(z, dtype=torch.bool).scatter(1, z.topk(k, dim=1).indices, True)


def test_units_with_gradient_correct_answers_pass():
    assert ksparse.check_units_with_gradient(lambda z, k: (top_k(z, k) != 0).any(dim=0).to(z.dtype)).passed

    def by_autograd(z, k):  # measure it: the gradient of a loss through top-k
        z = z.detach().clone().requires_grad_(True)
        weights = torch.arange(1.0, z.shape[1] + 1, dtype=z.dtype)
        (top_k(z, k) * weights).sum().backward()
        return (z.grad != 0).any(dim=0).to(z.dtype)

    assert ksparse.check_units_with_gradient(by_autograd).passed


def test_units_with_gradient_accepts_any_tie_breaking():
    def last_of_the_tied(z, k):  # topk of the reversed row: another choice among tied values
        flipped = _selected(z.flip(1), k).flip(1)
        return flipped.any(dim=0).to(z.dtype)

    assert ksparse.check_units_with_gradient(last_of_the_tied).passed


def test_units_with_gradient_agrees_with_autograd_through_a_tied_autoencoder():
    import aelab

    layer = aelab.TopK(3)
    model = aelab.mlp_autoencoder((1, 4, 4), code=20, tied=True, code_activation=layer, output="linear",
                                  loss="mse", seed=1)
    x = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    ((model(x) - x) ** 2).sum().backward()
    measured = (model.filters.grad != 0).any(dim=1)
    z = model.code_pre_activation(x).detach()
    assert torch.equal(measured, ksparse.units_with_gradient(z, 3).bool())
    assert 3 <= int(measured.sum()) < 20


@pytest.mark.parametrize("wrong, mistake", [
    (lambda z, k: torch.ones(z.shape[1], dtype=z.dtype), "every unit, through the tied decoder"),
    (lambda z, k: _selected(z, k).all(dim=0).to(z.dtype), "units selected in every image"),
    (lambda z, k: (z >= z.flatten().topk(k * len(z)).values[-1]).any(dim=0).to(z.dtype),
     "one threshold for the whole batch"),
    (lambda z, k: _selected(z.abs(), k).any(dim=0).to(z.dtype), "k largest in absolute value"),
    (lambda z, k: (z > 0).any(dim=0).to(z.dtype), "every unit with a positive pre-activation"),
    (lambda z, k: torch.zeros(z.shape[1], dtype=z.dtype).scatter(0, z.mean(0).topk(k).indices, 1.0),
     "the k units with the largest mean"),
    (lambda z, k: (z >= z.topk(k, dim=1).values[:, -1:]).any(dim=0).to(z.dtype),
     "mask from the k-th value keeps ties"),
])
def test_units_with_gradient_recognizes_mistakes(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=re.escape(f"recognized mistake: {mistake}")):
        ksparse.check_units_with_gradient(wrong)


def test_units_with_gradient_per_image_mask_gets_the_shape_message():
    with pytest.raises(ExerciseFailed, match="shape"):
        ksparse.check_units_with_gradient(lambda z, k: _selected(z, k).to(z.dtype))


def test_units_with_gradient_stub_is_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        ksparse.check_units_with_gradient(_stub)


# ---- exercise 4: alpha * k encoding
def test_features_correct_answer_passes():
    assert ksparse.check_sparse_features(lambda p, k, a: top_k(p, min(p.shape[1], round(a * k)))).passed


@pytest.mark.parametrize("wrong, mistake", [
    (lambda p, k, a: top_k(p, min(p.shape[1], k)), "ignores alpha"),
    (lambda p, k, a: a * top_k(p, min(p.shape[1], k)), "scales the values by alpha"),
    (lambda p, k, a: p.clamp_min(0), "ReLU instead of top-k"),
])
def test_features_recognizes_mistakes(wrong, mistake):
    with pytest.raises(ExerciseFailed, match=re.escape(f"recognized mistake: {mistake}")):
        ksparse.check_sparse_features(wrong)


def test_features_without_cap_fails_with_the_cap_explained():
    with pytest.raises(ExerciseFailed, match="Cap the number"):
        ksparse.check_sparse_features(lambda p, k, a: top_k(p, round(a * k)))


def test_features_stub_is_not_attempted():
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        ksparse.check_sparse_features(_stub)
