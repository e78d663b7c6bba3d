"""Checks for notebook 06 (contractive autoencoder): the closed-form penalty, the
Monte-Carlo estimate of the stochastic contraction, and the predicted contraction under
brightness-proportional noise (a derivation from section 1's trace identity)."""

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


def multiplicative_contraction(code: torch.Tensor, weight: torch.Tensor, x: torch.Tensor,
                               sigma: float) -> torch.Tensor:
    """Leading order of E||h(x) - h(x + eps)||^2 for eps_i = sigma x_i z_i, z ~ N(0, I), per example.

    For a sigmoid layer J = diag(h(1-h)) W, and E[eps eps^T] = sigma^2 diag(x^2), so
    E||J eps||^2 = tr(J^T J E[eps eps^T]) = sigma^2 sum_j (h_j(1-h_j))^2 sum_i W_ji^2 x_i^2.
    code (N, H), weight (H, D), x (N, D) (flattened images); returns shape (N,)."""
    return sigma**2 * ((code * (1 - code)) ** 2 * (x.pow(2) @ weight.pow(2).T)).sum(dim=1)


def _mult_cases():
    g = torch.Generator().manual_seed(8)
    cases = []
    for n, h, d, sigma in ((6, 4, 9, 0.1), (3, 7, 5, 0.3)):
        code = torch.sigmoid(2 * torch.randn(n, h, generator=g, dtype=torch.float64))
        w = torch.randn(h, d, generator=g, dtype=torch.float64)
        x = torch.rand(n, d, generator=g, dtype=torch.float64)
        cases.append((code, w, x, sigma))
    return cases


def _slope2(h):
    return (h * (1 - h)) ** 2


check_multiplicative_contraction = Exercise(
    "multiplicative_contraction", multiplicative_contraction, _mult_cases, atol=1e-10, rtol=1e-8,
    mistakes={
        "isotropic formula sigma^2 ||J||_F^2": (
            lambda h, w, x, s: s**2 * (_slope2(h) @ w.pow(2).sum(dim=1)),
            "that is the answer for eps ~ N(0, sigma^2 I). Here the noise of pixel i has standard deviation "
            "sigma x_i, so E[eps eps^T] = sigma^2 diag(x^2) is not sigma^2 I: redo the trace step of section 1 "
            "with it. A black pixel gets no noise at all."),
        "x_i instead of x_i^2": (
            lambda h, w, x, s: s**2 * (_slope2(h) * (x @ w.pow(2).T)).sum(dim=1),
            "the variance of pixel i's noise is (sigma x_i)^2 = sigma^2 x_i^2: the pixel value enters squared, "
            "like sigma."),
        "sigma instead of sigma^2": (
            lambda h, w, x, s: s * (_slope2(h) * (x.pow(2) @ w.pow(2).T)).sum(dim=1),
            "sigma is a standard deviation; a squared change has the VARIANCE sigma^2 in front."),
        "sigma^2 missing": (
            lambda h, w, x, s: (_slope2(h) * (x.pow(2) @ w.pow(2).T)).sum(dim=1),
            "the expected squared change is proportional to the noise variance: the factor sigma^2 is missing."),
        "whole-image scale ||x||^2 instead of pixel by pixel": (
            lambda h, w, x, s: s**2 * x.pow(2).sum(dim=1) * (_slope2(h) @ w.pow(2).sum(dim=1)),
            "you multiplied sigma^2 ||J||_F^2 by ||x||^2. Each pixel's noise variance weights only the column "
            "of J for that pixel: sum_i x_i^2 (J^T J)_ii, a weighted sum, not a product of two sums."),
        "h(1-h) not squared": (
            lambda h, w, x, s: s**2 * ((h * (1 - h)) * (x.pow(2) @ w.pow(2).T)).sum(dim=1),
            "row j of J is h_j (1 - h_j) W[j, :]; in ||J eps||^2 the slope enters squared: (h_j (1 - h_j))^2."),
        "averaged over the batch": (
            lambda h, w, x, s: multiplicative_contraction(h, w, x, s).mean(),
            "return one prediction per example, shape (N,), not their mean."),
    },
    hint="E||J eps||^2 = tr(J^T J E[eps eps^T]) with E[eps eps^T] = sigma^2 diag(x^2) and J = diag(h(1-h)) W.")

register(globals())
