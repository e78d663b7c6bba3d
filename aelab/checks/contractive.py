"""Checks for notebook 06 (contractive autoencoder): the closed-form penalty and the
Monte-Carlo estimate of the stochastic contraction."""

from __future__ import annotations

import torch

from ..jacobian import stochastic_contraction
from ..penalties import contractive_penalty
from ._core import Exercise, register


def _penalty_cases():
    g = torch.Generator().manual_seed(6)
    cases = []
    # the first case is square (H == D), so that summing W over the wrong axis still runs and can be named
    for n, h, d in ((7, 5, 5), (9, 4, 11), (3, 6, 2)):
        code = torch.sigmoid(2 * torch.randn(n, h, generator=g, dtype=torch.float64))
        cases.append((code, torch.randn(h, d, generator=g, dtype=torch.float64)))
    return cases


def _per_example(h, w):
    return (h * (1 - h)) ** 2 @ w.pow(2).sum(dim=1)


check_contractive_penalty = Exercise(
    "contractive_penalty", contractive_penalty, _penalty_cases, atol=1e-9, gradient=(0, 1),  # trained through
    mistakes={
        "forgot the mean over the batch": (
            _per_example, "you return one value per example; the penalty is their mean over the batch, a scalar "
                          "(add .mean())."),
        "missing square on h(1-h)": (
            lambda h, w: ((h * (1 - h)) @ w.pow(2).sum(dim=1)).mean(),
            "the derivative of the sigmoid, h_j (1 - h_j), multiplies row j of the Jacobian, so it enters the "
            "squared Frobenius norm squared: (h_j (1 - h_j))^2."),
        "column norms instead of row norms": (
            lambda h, w: ((h * (1 - h)) ** 2 @ w.pow(2).sum(dim=0)).mean(),
            "you summed W^2 over the code units (dim=0, one norm per pixel). Row j of J is h_j (1 - h_j) W[j, :], "
            "so you need the squared norm of each ROW of W: w.pow(2).sum(dim=1), one number per code unit."),
        "h instead of h(1-h)": (lambda h, w: (h ** 2 @ w.pow(2).sum(dim=1)).mean(),
                                "d sigmoid(a)/da is sigmoid(a) (1 - sigmoid(a)) = h (1 - h), not h."),
        "sum over the batch instead of mean": (
            lambda h, w: _per_example(h, w).sum(),
            "the penalty is the MEAN over the batch of ||J||_F^2 (like the reconstruction loss): with a sum its "
            "weight would change with the batch size."),
        "Frobenius norm not squared": (lambda h, w: _per_example(h, w).sqrt().mean(),
                                       "the CAE penalises the SQUARED Frobenius norm ||J||_F^2; you took its "
                                       "square root."),
    },
    hint="||J||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ji^2, then the mean over the batch.")


def _mc_cases():
    g = torch.Generator().manual_seed(7)
    w = torch.randn(5, 12, generator=g, dtype=torch.float64)
    b = torch.randn(5, generator=g, dtype=torch.float64)

    def encode(x):
        return torch.sigmoid(x.flatten(1) @ w.T + b)

    cases = []
    for n, sigma, s in ((6, 0.1, 4), (3, 0.5, 3)):
        x = torch.rand(n, 1, 3, 4, generator=g, dtype=torch.float64)
        cases.append((encode, x, sigma, torch.randn(s, n, 1, 3, 4, generator=g, dtype=torch.float64)))
    return cases


check_stochastic_contraction = Exercise(
    "stochastic_contraction", stochastic_contraction, _mc_cases, atol=1e-9,
    mistakes={
        "averaged over the batch too": (
            lambda e, x, s, z: stochastic_contraction(e, x, s, z).mean(),
            "you return one number; return the estimate for each example, shape (N,): average over the noise "
            "draws only, not over the batch."),
        "noise not scaled by sigma": (
            lambda e, x, s, z: stochastic_contraction(e, x, 1.0, z),
            "the draws z are standard normal; the corruption is eps = sigma * z, so use x + sigma * noise[s]."),
        "sigma squared used as the standard deviation": (
            lambda e, x, s, z: stochastic_contraction(e, x, s ** 2, z),
            "sigma is the standard deviation of the noise (its variance is sigma^2): eps = sigma * z."),
        "divided by sigma^2": (
            lambda e, x, s, z: stochastic_contraction(e, x, s, z) / s ** 2,
            "return the expected squared change E||h(x) - h(x + eps)||^2 itself; the division by sigma^2 (which "
            "turns it into an estimate of ||J||_F^2) comes later, in the notebook."),
        "norm not squared": (
            lambda e, x, s, z: torch.stack([(e(x + s * zi) - e(x)).norm(dim=1) for zi in z]).mean(0),
            "the regularizer is the SQUARED distance ||h(x) - h(x + eps)||^2; you averaged the distance."),
        "mean over code units instead of sum": (
            lambda e, x, s, z: stochastic_contraction(e, x, s, z) / e(x).shape[1],
            "||h(x) - h(x + eps)||^2 sums the squared changes over the H code units; you averaged them."),
    },
    hint="mean over s of ((encode(x + sigma * noise[s]) - encode(x)) ** 2).sum(dim=1).")

register(globals())
