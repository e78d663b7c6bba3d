import re

import pytest
import torch

from aelab.activations import top_k
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


def _stub(*args):
    raise NotImplementedError()


# ---- exercise 1: top-k
def test_top_k_correct_answers_pass():
    assert ksparse.check_top_k(top_k).passed

    def with_mask(z, k):  # exactly the k positions topk returns, even when values tie
        mask = torch.zeros_like(z, dtype=torch.bool).scatter(1, z.topk(k, dim=1).indices, True)
        return z * mask

    assert ksparse.check_top_k(with_mask).passed


def test_top_k_mask_from_the_kth_value_keeps_ties_and_is_rejected():
    with pytest.raises(ExerciseFailed, match="recognized mistake: mask from the k-th value keeps ties"):
        ksparse.check_top_k(lambda z, k: z * (z >= z.topk(k, dim=1).values[:, -1:]))


@pytest.mark.parametrize("wrong, mistake", [
    (lambda z, k: top_k(z, k + 1), "keeps k+1 units"),
    (lambda z, k: -top_k(-z, k), "keeps the k smallest"),
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
        ksparse.check_top_k(lambda z, k: top_k(z, k).detach())


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


# ---- exercise 3: alpha * k encoding
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
