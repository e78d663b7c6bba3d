"""Checks for the exercise of notebook 05b (denoising in use): the optimal denoiser of 1-D Gaussian data.

The package has no function for this closed form (it is a pencil-and-paper result), so the reference is
written here, once: for x ~ N(mu, s^2) and x~ = x + sigma * eps, eps ~ N(0, 1),

    r*(x~) = E[x | x~] = mu + s^2 / (s^2 + sigma^2) * (x~ - mu),

which is also Tweedie's identity r*(x~) = x~ + sigma^2 d/dx~ log p_sigma(x~) with p_sigma = N(mu, s^2 + sigma^2).
"""

from __future__ import annotations

import torch

from ._core import Exercise, register


def gaussian_posterior_mean(x_noisy, mu, s, sigma):
    """E[x | x~] for x ~ N(mu, s^2) observed as x~ = x + sigma * eps (the minimum-squared-error denoiser)."""
    return mu + s ** 2 / (s ** 2 + sigma ** 2) * (x_noisy - mu)


def _cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    # mu != 0, s != sigma, s != 1, sigma != 1, and s^2 + sigma^2 != 1, so that every named mistake differs
    for mu, s, sigma in ((0.5, 0.2, 0.3), (-1.2, 2.0, 1.5), (3.0, 0.7, 0.4)):
        x_noisy = mu + (s ** 2 + sigma ** 2) ** 0.5 * torch.randn(9, generator=g, dtype=torch.float64)
        cases.append((x_noisy, mu, s, sigma))
    return cases


check_optimal_denoiser = Exercise(
    "optimal_denoiser", gaussian_posterior_mean, _cases, atol=1e-10, rtol=1e-8,
    passed="E[x | x~] on 3 test settings (mu, s, sigma)",
    mistakes={
        "s^2 / sigma^2": (
            lambda x, mu, s, sigma: mu + s ** 2 / sigma ** 2 * (x - mu),
            "your factor is s^2 / sigma^2, which is above 1 when the signal is stronger than the noise: a denoiser "
            "that moves x~ further from mu than it is. The factor is a weight between 0 and 1: the variance of "
            "x over the variance of x~, and x~ = x + noise has variance s^2 + sigma^2."),
        "forgot mu": (
            lambda x, mu, s, sigma: s ** 2 / (s ** 2 + sigma ** 2) * x,
            "the factor is right, but you shrank x~ towards 0, not towards the mean mu of the data. "
            "Shrink the deviation from the mean: mu + factor * (x~ - mu)."),
        "score of p instead of p_sigma": (
            lambda x, mu, s, sigma: x - sigma ** 2 * (x - mu) / s ** 2,
            "you used the score of the clean density p = N(mu, s^2). Tweedie's identity needs the density of "
            "the NOISY input, p_sigma = N(mu, s^2 + sigma^2): d/dx~ log p_sigma(x~) = -(x~ - mu) / (s^2 + sigma^2)."),
        "inverted weights": (
            lambda x, mu, s, sigma: mu + sigma ** 2 / (s ** 2 + sigma ** 2) * (x - mu),
            "the weights are swapped: with little noise (sigma -> 0) the best guess must be x~ itself, with "
            "much noise (sigma -> infinity) it must be mu. The weight of x~ - mu is s^2 / (s^2 + sigma^2)."),
        "standard deviations instead of variances": (
            lambda x, mu, s, sigma: mu + s / (s + sigma) * (x - mu),
            "you weighted with standard deviations, s / (s + sigma). Variances add for independent noise, "
            "standard deviations do not: Var x~ = s^2 + sigma^2, and the weight is Cov(x, x~) / Var x~."),
    },
    hint="E[x | x~] = mu + Cov(x, x~) / Var(x~) * (x~ - mu) for jointly Gaussian x, x~; or use Tweedie with p_sigma.")


def denoised_spread(s, sigma):
    """The standard deviation of r*(x~) over the data: s^2 / sqrt(s^2 + sigma^2)."""
    return s ** 2 / (s ** 2 + sigma ** 2) ** 0.5


def _settings():
    """Three settings (s, sigma) as float64 tensors, one per entry; each named mistake gives other values."""
    return (torch.tensor([0.2, 2.0, 0.7], dtype=torch.float64), torch.tensor([0.3, 1.5, 0.4], dtype=torch.float64))


check_denoised_spread = Exercise(
    "denoised_spread", denoised_spread, lambda: [_settings()], atol=1e-10, rtol=1e-8,
    passed="the standard deviation of r*(x~) on 3 test settings (s, sigma) at once",
    mistakes={
        "the spread of the data": (
            lambda s, sigma: s,
            "you answered s, as if the denoiser returned clean samples. r*(x~) is an average over all the clean "
            "values that could have produced x~, so it varies less than x: compute the standard deviation of "
            "mu + c (x~ - mu)."),
        "c times s": (
            lambda s, sigma: s ** 3 / (s ** 2 + sigma ** 2),
            "you multiplied the factor c by s, the spread of the clean x. The denoiser is applied to x~, whose "
            "standard deviation is sqrt(s^2 + sigma^2), not s."),
        "the posterior standard deviation": (
            lambda s, sigma: (s ** 2 * sigma ** 2 / (s ** 2 + sigma ** 2)) ** 0.5,
            "that is the spread of x AROUND r*(x~) (the uncertainty left after seeing x~, the residual), not the "
            "spread of r*(x~) itself over the data. The two add up: Var x = Var r*(x~) + E Var(x | x~)."),
        "variance instead of standard deviation": (
            lambda s, sigma: s ** 4 / (s ** 2 + sigma ** 2),
            "you returned the variance of r*(x~); the question asks for its standard deviation "
            "(take the square root)."),
    },
    hint="r*(x~) = mu + c (x~ - mu): its standard deviation is |c| times that of x~.")


register(globals())
