"""Checks for notebook 04 (the k-sparse autoencoder): top-k, the annealing schedule of k and the
alpha*k encoding used for features."""

from __future__ import annotations

import contextlib
import copy
import io

import torch

from ..activations import top_k
from ._core import CheckResult, ExerciseFailed, call_student, check_function, not_attempted, passed


def _cases() -> list[tuple[torch.Tensor, int]]:
    g = torch.Generator().manual_seed(4)
    return [(torch.randn(6, 10, generator=g, dtype=torch.float64), 3),
            (torch.randn(9, 5, generator=g, dtype=torch.float64) - 0.5, 2),
            (torch.randn(4, 12, generator=g, dtype=torch.float64), 5)]


def _threshold_batch(z, k):
    cut = z.flatten().topk(k * len(z)).values[-1]
    return torch.where(z >= cut, z, torch.zeros_like(z))


TOP_K_MISTAKES = {
    "keeps k+1 units": (lambda z, k: top_k(z, min(k + 1, z.shape[1])),
                        "you keep k+1 units per code, one too many (an off-by-one in the slice or in a "
                        "'>=' comparison with the k-th value?). Each code must have exactly k non-zeros."),
    "keeps the k smallest": (lambda z, k: -top_k(-z, k),
                             "you keep the k SMALLEST activations (topk(..., largest=False), or an "
                             "ascending sort): the k-sparse AE keeps the k largest values."),
    "keeps the k largest in absolute value": (
        lambda z, k: torch.zeros_like(z).scatter(1, z.abs().topk(k, dim=1).indices,
                                                 z.gather(1, z.abs().topk(k, dim=1).indices)),
        "you keep the k entries largest in ABSOLUTE value. The pre-activations here are linear, so a "
        "large negative value is a unit that does not respond; the k-sparse AE keeps the k largest "
        "values (Makhzani and Frey's supp_k), not magnitudes."),
    "thresholds instead of top-k per sample": (
        _threshold_batch,
        "you use one threshold for the whole batch (keeping k*N values in total). Some codes then keep "
        "more than k units and some fewer: top-k must choose k units in EACH code separately."),
    "ReLU threshold at 0": (lambda z, k: z.clamp_min(0),
                            "you keep every positive activation (a ReLU), not the k largest: the number "
                            "of active units then varies from code to code."),
    "operates over the batch dimension": (
        lambda z, k: torch.zeros_like(z).scatter(0, z.topk(min(k, len(z)), dim=0).indices,
                                                 z.topk(min(k, len(z)), dim=0).values),
        "you pick the k largest along the BATCH dimension (dim=0): for each unit the k samples where it "
        "is largest. Top-k works within each code (each row), over its H units: use dim=1."),
}


def check_top_k(student) -> CheckResult:
    """Exercise 1: ``student(z, k)`` for codes z of shape (N, H) returns z with all but the k
    largest entries of each row set to 0; gradients must flow through the kept entries."""
    name = "Exercise 1 (top-k)"
    with contextlib.redirect_stdout(io.StringIO()):  # one line for the student: printed below
        result = check_function(name, student, top_k, _cases(), mistakes=TOP_K_MISTAKES,
                                hint="keep the k largest values of each row (z.topk(k, dim=1)) and zero the rest.")
    if not result.passed:
        return not_attempted(name)
    z = torch.tensor([[0.3, -1.0, 2.0, 0.7]], dtype=torch.float64, requires_grad=True)
    out = student(z, 2)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise ExerciseFailed(f"{name}: the values are right but no gradient reaches z (did you use .detach(), "
                             ".numpy() or torch.tensor(...)?). Build the output from z with torch operations "
                             "so backpropagation reaches the k active units.")
    (out * torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64)).sum().backward()
    if not torch.equal(z.grad, torch.tensor([[0.0, 0.0, 3.0, 4.0]], dtype=torch.float64)):
        raise ExerciseFailed(f"{name}: the values are right but the gradient is {z.grad.tolist()}, expected "
                             "[[0, 0, 3, 4]]: it must flow through the k kept units only, unchanged.")
    return passed(name, "values on 3 inputs and the gradient through the k active units")


def _schedule(epoch: int, start: int, end: int, anneal_epochs: int) -> float:
    return start + (end - start) * min(1.0, epoch / anneal_epochs)


SCHEDULE_CASES = [(100, 10, 15, 30), (70, 25, 5, 10), (40, 40, 3, 6), (1000, 10, 7, 12)]

SCHEDULE_MISTAKES = {
    "reaches the target one epoch early": (
        lambda e, s, t, a: s + (t - s) * min(1.0, (e + 1) / a),
        "k reaches its target one epoch early (you use (epoch + 1) / anneal_epochs). Epochs count from 0: "
        "epoch 0 trains with k = start, and k = end from epoch anneal_epochs on."),
    "does not stop at the target": (
        lambda e, s, t, a: s + (t - s) * e / a,
        "k keeps decreasing after anneal_epochs and goes below the target (and below 1 eventually). "
        "Clamp the progress: min(1, epoch / anneal_epochs)."),
    "goes the wrong way": (
        lambda e, s, t, a: t + (s - t) * min(1.0, e / a),
        "k grows from the target to the start value: the schedule must START large (every unit gets "
        "trained) and decrease to the target k."),
    "steps down at the end instead of annealing": (
        lambda e, s, t, a: s if e < a else t,
        "k jumps from start to end at anneal_epochs instead of decreasing linearly over those epochs."),
}


def check_k_schedule(student) -> CheckResult:
    """Exercise 2: ``student(epoch, start, end, anneal_epochs)`` -> the integer k of that epoch
    (epochs count from 0): linear from ``start`` at epoch 0 to ``end`` at ``anneal_epochs``,
    then constant. Any rounding of the linear value is accepted (within 1)."""
    name = "Exercise 2 (annealing schedule of k)"
    for start, end, anneal, total in SCHEDULE_CASES:
        got = []
        for epoch in range(total):
            attempted, k = call_student(name, student, (epoch, start, end, anneal))
            if not attempted:
                return not_attempted(name)
            if isinstance(k, torch.Tensor) and k.numel() == 1:
                k = k.item()
            if isinstance(k, bool) or not float(k).is_integer():
                raise ExerciseFailed(f"{name}: k must be a whole number of units, got {k!r} at epoch {epoch} "
                                     f"(start={start}, end={end}, anneal_epochs={anneal}). Round it: round(...).")
            got.append(int(k))
        exact = [_schedule(e, start, end, anneal) for e in range(total)]
        if all(abs(g - x) < 1 for g, x in zip(got, exact, strict=True)) and got[0] == start and got[-1] == end:
            continue
        for mistake, (wrong, explanation) in SCHEDULE_MISTAKES.items():
            expected_wrong = [wrong(e, start, end, anneal) for e in range(total)]
            if all(abs(g - x) < 1 for g, x in zip(got, expected_wrong, strict=True)):
                raise ExerciseFailed(f"{name}: {explanation} [recognized mistake: {mistake}]")
        raise ExerciseFailed(f"{name}: with start={start}, end={end}, anneal_epochs={anneal} your k per epoch is "
                             f"{got}, expected {[round(x) for x in exact]}.")
    return passed(name, f"{len(SCHEDULE_CASES)} schedules, epoch by epoch")


def _features_reference(pre: torch.Tensor, k: int, alpha: float) -> torch.Tensor:
    return top_k(pre, min(pre.shape[1], round(alpha * k)))


FEATURE_MISTAKES = {
    "ignores alpha": (lambda pre, k, alpha: top_k(pre, k),
                      "you keep only k units: for features the paper keeps alpha*k units (alpha >= 1), "
                      "more than in training, so that a test image close to two templates uses both."),
    "scales the values by alpha": (lambda pre, k, alpha: alpha * top_k(pre, k),
                                   "you multiply the k kept values by alpha: alpha multiplies the NUMBER of "
                                   "kept units, top_k(pre, alpha * k), not their values."),
    "ReLU instead of top-k": (lambda pre, k, alpha: pre.clamp_min(0),
                              "you keep every positive pre-activation: keep exactly alpha*k units per code."),
}


def check_sparse_features(student) -> CheckResult:
    """Exercise 3: ``student(pre, k, alpha)`` keeps the round(alpha*k) largest pre-activations of
    each row of ``pre`` (N, H), at most H."""
    name = "Exercise 3 (alpha*k encoding)"
    g = torch.Generator().manual_seed(5)
    cases = [(torch.randn(5, 20, generator=g, dtype=torch.float64), 3, 2),
             (torch.randn(4, 30, generator=g, dtype=torch.float64), 4, 3.0),
             (torch.randn(3, 10, generator=g, dtype=torch.float64), 4, 3)]  # alpha*k = 12 > H = 10
    for i, case in enumerate(cases):
        try:
            attempted, _ = call_student(name, student, case)
        except ExerciseFailed as error:
            if i == 2:
                raise ExerciseFailed(f"{name}: with H = 10 units, k = 4 and alpha = 3 you ask for 12 units and "
                                     "your function fails. Cap the number of kept units at H: "
                                     "min(H, round(alpha * k)).") from error
            raise
        if not attempted:
            return not_attempted(name)
    return check_function(name, student, _features_reference, copy.deepcopy(cases), mistakes=FEATURE_MISTAKES,
                          hint="top_k(pre, min(H, round(alpha * k))).")


from ._core import isolate_rng  # noqa: E402  (after the definitions it wraps)

isolate_rng(globals())
