"""Checks for notebook 04 (the k-sparse autoencoder): top-k, the annealing schedule of k, which
filters get a gradient from a batch, and the alpha*k encoding used for features."""

from __future__ import annotations

import itertools

import torch

from ..activations import AnnealK, TopK, anneal_k, top_k
from ._core import Case, Exercise, register


def _is_top(count):
    """A compare for top-k answers: ties may be broken any way, so check the properties, not the indices."""
    def compare(got, expected, case):
        z, k = case[0], count(*case)
        kept = got != 0
        per_row = kept.sum(dim=1)
        if bool((per_row != k).any()):
            row = int(torch.nonzero(per_row != k)[0])
            return (f"row {row} of your result keeps {int(per_row[row])} non-zero entries; each row must keep "
                    f"exactly {k} (when values tie, keep any {k} of the largest)")
        if not torch.equal(got[kept].detach(), z[kept]):
            return "the kept entries must keep their values, unchanged"
        lowest_kept = z.masked_fill(~kept, float("inf")).min(dim=1).values
        highest_dropped = z.masked_fill(kept, -float("inf")).max(dim=1).values
        if bool((lowest_kept < highest_dropped).any()):
            row = int(torch.nonzero(lowest_kept < highest_dropped)[0])
            return f"row {row} of your result drops the value {float(highest_dropped[row]):.3g} but keeps a smaller one"
        return None
    return compare


def _ties():
    # Tied values: a mask from each row's k-th value keeps all of them, more than k.
    return Case(torch.tensor([[0.5, 2.0, 2.0, 2.0, -1.0, 0.1], [3.0, 1.0, 1.0, 0.2, 1.0, -2.0]], dtype=torch.float64),
                2, note="(This input has tied values: exactly k entries per row, whichever of the tied ones.)")


def _top_k_cases():
    g = torch.Generator().manual_seed(4)
    return [(torch.randn(6, 10, generator=g, dtype=torch.float64), 3),
            (torch.randn(9, 5, generator=g, dtype=torch.float64) - 0.5, 2),
            (torch.randn(4, 12, generator=g, dtype=torch.float64), 5), _ties()]


def _largest_abs(z, k):
    index = z.abs().topk(k, dim=1).indices
    return torch.zeros_like(z).scatter(1, index, z.gather(1, index))


def _over_batch(z, k):
    values, index = z.topk(min(k, len(z)), dim=0)
    return torch.zeros_like(z).scatter(0, index, values)


check_top_k = Exercise(
    "Exercise 1 (top-k)", top_k, _top_k_cases, compare=_is_top(lambda z, k: k), gradient=(0,),
    passed="exactly k per row on 4 inputs (one with ties), and the gradient flows through the k kept units",
    mistakes={
        "keeps k+1 units": (lambda z, k: top_k(z, min(k + 1, z.shape[1])),
                            "you keep k+1 units per code, one too many (an off-by-one in the slice or in a "
                            "'>=' comparison with the k-th value?). Each code must have exactly k non-zeros."),
        "keeps the k smallest": (lambda z, k: -top_k(-z, k),
                                 "you keep the k SMALLEST activations (topk(..., largest=False), or an ascending "
                                 "sort): the k-sparse AE keeps the k largest values."),
        "keeps the k largest in absolute value": (
            _largest_abs,
            "you keep the k entries largest in ABSOLUTE value. The pre-activations here are linear, so a large "
            "negative value is a unit that does not respond; the k-sparse AE keeps the k largest values (Makhzani "
            "and Frey's supp_k), not magnitudes."),
        "thresholds instead of top-k per sample": (
            lambda z, k: z * (z >= z.flatten().topk(k * len(z)).values[-1]),
            "you use one threshold for the whole batch (keeping k*N values in total). Some codes then keep more "
            "than k units and some fewer: top-k must choose k units in EACH code separately."),
        "mask from the k-th value keeps ties": (
            lambda z, k: z * (z >= z.topk(k, dim=1).values[:, -1:]),
            "you keep every entry at least as large as the row's k-th value: when values tie, that keeps more than "
            "k. Keep exactly the k positions that torch.topk returns (scatter them into zeros)."),
        "ReLU threshold at 0": (lambda z, k: z.clamp_min(0),
                                "you keep every positive activation (a ReLU), not the k largest: the number of "
                                "active units then varies from code to code."),
        "operates over the batch dimension": (
            _over_batch,
            "you pick the k largest along the BATCH dimension (dim=0): for each unit the k samples where it is "
            "largest. Top-k works within each code (each row), over its H units: use dim=1."),
    },
    hint="keep the k largest values of each row (z.topk(k, dim=1)) and zero the rest.")


def _schedule(epoch, start, end, anneal_epochs):
    layer = TopK(start)
    anneal_k(layer, start, end, anneal_epochs)(epoch, None, None)
    return layer.k


def _close_to_linear(got, expected, case):
    """Any rounding of the linear value is accepted (within 1); epoch 0 and the epochs after annealing are exact."""
    epoch, start, end, anneal = case
    exact = start + (end - start) * min(1.0, epoch / anneal)
    if abs(got - exact) < 1 and (epoch > 0 or got == start) and (epoch < anneal or got == end):
        return None
    return f"your k is {got}, expected {expected}"


check_k_schedule = Exercise(
    "Exercise 2 (annealing schedule of k)", _schedule,
    lambda: [(e, s, t, a) for s, t, a, total in ((100, 10, 15, 30), (70, 25, 5, 10), (40, 40, 3, 6), (1000, 10, 7, 12))
             for e in range(total)], forbidden=(anneal_k, AnnealK.__call__),
    compare=_close_to_linear, atol=1.0, passed="4 schedules, epoch by epoch",  # atol: mistakes, whatever the rounding
    mistakes={
        "reaches the target one epoch early": (
            lambda e, s, t, a: round(s + (t - s) * min(1.0, (e + 1) / a)),
            "k reaches its target one epoch early (you use (epoch + 1) / anneal_epochs). Epochs count from 0: "
            "epoch 0 trains with k = start, and k = end from epoch anneal_epochs on."),
        "does not stop at the target": (
            lambda e, s, t, a: round(s + (t - s) * e / a),
            "k keeps decreasing after anneal_epochs and goes below the target (and below 1 eventually). Clamp the "
            "progress: min(1, epoch / anneal_epochs)."),
        "goes the wrong way": (
            lambda e, s, t, a: round(t + (s - t) * min(1.0, e / a)),
            "k grows from the target to the start value: the schedule must START large (every unit gets trained) "
            "and decrease to the target k."),
        "steps down at the end instead of annealing": (
            lambda e, s, t, a: s if e < a else t,
            "k jumps from start to end at anneal_epochs instead of decreasing linearly over those epochs."),
    },
    hint="k = start + (end - start) * min(1, epoch / anneal_epochs), rounded.")


def _selected(z, k):
    """(N, H) boolean: the k units torch.topk keeps in each row."""
    return torch.zeros_like(z, dtype=torch.bool).scatter(1, z.topk(k, dim=1).indices, True)


def units_with_gradient(z, k):
    """The reference: 1 for a unit selected in at least one row of z (N, H), else 0, in z's dtype.

    With h = supp_k(z), z = W x + b and the tied decoder W^T h + b', row j of W gets the gradient
    sum over images of [j selected] (dL/dh_j x + dL/dx_hat h_j): zero unless unit j is selected in some image."""
    return _selected(z, k).any(dim=0).to(z.dtype)


def _one_valid_union(got, z, k):
    """True if ``got`` (H,) is the union over rows of SOME valid top-k choice of each row (ties broken any way)."""
    kth = z.topk(k, dim=1).values[:, -1:]
    strict, tied = z > kth, z == kth
    choices = []
    for row in range(len(z)):
        base = strict[row].nonzero().flatten().tolist()
        candidates = tied[row].nonzero().flatten().tolist()
        choices.append([base + list(c) for c in itertools.combinations(candidates, k - len(base))])
    want = {int(i) for i in got.nonzero().flatten()}
    return any(set(itertools.chain.from_iterable(pick)) == want for pick in itertools.product(*choices))


def _same_units(got, expected, case):
    z, k = case
    if not bool(((got == 0) | (got == 1)).all()):
        return "each entry must be 1 (the unit's filter gets a gradient) or 0 (it gets none)"
    if torch.equal(got, expected) or _one_valid_union(got, z, k):
        return None
    extra = ((got != 0) & (expected == 0)).nonzero().flatten().tolist()
    missing = ((got == 0) & (expected != 0)).nonzero().flatten().tolist()
    parts = ([f"you mark unit {extra[0]}, which gets no gradient"] if extra else []) + \
            ([f"you leave out unit {missing[0]}, which gets one"] if missing else [])
    return " and ".join(parts)


def _gradient_cases():
    g = torch.Generator().manual_seed(6)
    randn = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    shifted = randn(6, 12) + 0.5                    # mostly positive: many positive units outside the top k
    shifted[:, 0] = -4.0                            # and one unit that responds to no image
    loud = randn(5, 12)
    loud[2] += 3.0                                  # one image responds strongly to every unit
    return [(shifted, 3), (randn(4, 10) * 3, 2), (loud, 3), (randn(3, 16), 5),
            Case(torch.tensor([[0.5, 2.0, 2.0, 2.0, -1.0, 0.1], [3.0, 0.2, 0.3, 0.4, 1.0, -2.0]],
                              dtype=torch.float64), 2,
                 note="(Row 0 has three tied values for two places: torch.topk keeps two of them, and only "
                      "those two get a gradient.)")]


check_units_with_gradient = Exercise(
    "Exercise 3 (which filters learn from a batch)", units_with_gradient, _gradient_cases, compare=_same_units,
    passed="5 batches (one with tied values): exactly the units selected in at least one image",
    mistakes={
        "every unit, through the tied decoder": (
            lambda z, k: torch.ones(z.shape[1], dtype=z.dtype),
            "you give every unit a gradient, through the tied decoder. But w_j enters the reconstruction only as "
            "h_j w_j, and h_j = 0 for an unselected unit: its decoder gradient h_j dL/dx_hat is 0 as well."),
        "units selected in every image": (
            lambda z, k: _selected(z, k).all(dim=0).to(z.dtype),
            "you keep only the units selected in EVERY image of the batch. The batch loss is a sum over images: a "
            "filter gets a gradient as soon as one image selects it."),
        "one threshold for the whole batch": (
            lambda z, k: (z >= z.flatten().topk(k * len(z)).values[-1]).any(dim=0).to(z.dtype),
            "you take the k*N largest values of the whole batch. Each image selects its own k units: a unit can be "
            "in an image's top k with a value smaller than other images' unselected values."),
        "k largest in absolute value": (
            lambda z, k: torch.zeros_like(z, dtype=torch.bool).scatter(1, z.abs().topk(k, dim=1).indices, True)
            .any(dim=0).to(z.dtype),
            "you select by absolute value. supp_k keeps the k largest VALUES: a strongly negative pre-activation is "
            "a unit that does not respond, and it gets no gradient."),
        "every unit with a positive pre-activation": (
            lambda z, k: (z > 0).any(dim=0).to(z.dtype),
            "you give a gradient to every unit with z_j > 0 in some image (a ReLU's rule). Under top-k a positive "
            "unit outside the image's top k is set to 0 and gets no gradient."),
        "the k units with the largest mean": (
            lambda z, k: torch.zeros(z.shape[1], dtype=z.dtype).scatter(0, z.mean(dim=0).topk(k).indices, 1.0),
            "you pick k units for the whole batch (from the mean pre-activation). Each image selects its own k, so "
            "a batch can train up to N*k different filters."),
        "mask from the k-th value keeps ties": (
            lambda z, k: (z >= z.topk(k, dim=1).values[:, -1:]).any(dim=0).to(z.dtype),
            "with tied values, z >= (the row's k-th value) selects more than k units; top-k keeps exactly k, and "
            "the others get no gradient."),
    },
    hint="a unit's filter gets a gradient when the unit is in the top k of at least one image of the batch.")


def _feature_cases():
    g = torch.Generator().manual_seed(5)
    randn = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    return [(randn(5, 20), 3, 2), (randn(4, 30), 4, 3.0),
            Case(randn(4, 20), 3, 2.6, note="(alpha * k = 7.8 here: round it, to 8.)"),
            Case(randn(4, 20), 3, 2.4, note="(alpha * k = 7.2 here: round it, to 7.)"),
            Case(randn(3, 10), 4, 3, note="With H = 10 units, k = 4 and alpha = 3 you ask for 12 units. Cap the "
                                          "number of kept units at H, min(H, round(alpha * k)).")]


def _n_features(pre, k, alpha):
    return min(pre.shape[1], round(alpha * k))


check_sparse_features = Exercise(
    "Exercise 4 (alpha*k encoding)", lambda pre, k, alpha: top_k(pre, _n_features(pre, k, alpha)), _feature_cases,
    compare=_is_top(_n_features), passed="round(alpha * k) units per row, at most H, on 5 inputs",
    mistakes={
        "ignores alpha": (lambda pre, k, alpha: top_k(pre, k),
                          "you keep only k units: for features the paper keeps alpha*k units (alpha >= 1), more "
                          "than in training, so that a test image close to two templates uses both."),
        "scales the values by alpha": (lambda pre, k, alpha: alpha * top_k(pre, k),
                                       "you multiply the k kept values by alpha: alpha multiplies the NUMBER of kept "
                                       "units, top_k(pre, alpha * k), not their values."),
        "truncates alpha * k": (lambda pre, k, alpha: top_k(pre, min(pre.shape[1], int(alpha * k))),
                                "you truncate alpha * k (int(...) or //) instead of rounding it: round(alpha * k)."),
        "ReLU instead of top-k": (lambda pre, k, alpha: pre.clamp_min(0),
                                  "you keep every positive pre-activation: keep exactly alpha*k units per code."),
    },
    hint="top_k(pre, min(H, round(alpha * k))).")

register(globals())
