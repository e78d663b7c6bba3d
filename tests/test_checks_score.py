import re

import pytest
import torch

from aelab.checks import ExerciseFailed
from aelab.checks.score import check_denoised_spread, check_optimal_denoiser, denoised_spread, gaussian_posterior_mean

pytestmark = pytest.mark.usefixtures("strict_checks")  # wrong answers raise, as when grading


def tweedie(x, mu, s, sigma):
    score = -(x - mu) / (s ** 2 + sigma ** 2)      # d/dx~ log N(x~; mu, s^2 + sigma^2)
    return x + sigma ** 2 * score


def test_posterior_mean_passes():
    assert check_optimal_denoiser(lambda x, mu, s, sigma: mu + s ** 2 / (s ** 2 + sigma ** 2) * (x - mu)).passed


def test_tweedie_form_passes():
    assert check_optimal_denoiser(tweedie).passed


def test_reference_is_the_least_squares_denoiser():
    g = torch.Generator().manual_seed(1)
    mu, s, sigma = 0.5, 0.2, 0.3
    x = mu + s * torch.randn(400_000, generator=g, dtype=torch.float64)
    x_noisy = x + sigma * torch.randn(400_000, generator=g, dtype=torch.float64)
    slope = torch.cov(torch.stack([x_noisy, x]))[0, 1] / x_noisy.var()
    assert abs(float(slope) - s ** 2 / (s ** 2 + sigma ** 2)) < 0.005
    assert float(gaussian_posterior_mean(torch.tensor(mu), mu, s, sigma)) == pytest.approx(mu)


@pytest.mark.parametrize("wrong, label", [
    (lambda x, mu, s, sigma: mu + s ** 2 / sigma ** 2 * (x - mu), "s^2 / sigma^2"),
    (lambda x, mu, s, sigma: s ** 2 / (s ** 2 + sigma ** 2) * x, "forgot mu"),
    (lambda x, mu, s, sigma: x - sigma ** 2 * (x - mu) / s ** 2, "score of p instead of p_sigma"),
    (lambda x, mu, s, sigma: mu + sigma ** 2 / (s ** 2 + sigma ** 2) * (x - mu), "inverted weights"),
    (lambda x, mu, s, sigma: mu + s / (s + sigma) * (x - mu), "standard deviations instead of variances"),
])
def test_optimal_denoiser_mistakes(wrong, label):
    with pytest.raises(ExerciseFailed, match=re.escape(label)):
        check_optimal_denoiser(wrong)


def test_optimal_denoiser_not_attempted():
    def stub(x, mu, s, sigma):
        raise NotImplementedError()
    with pytest.raises(ExerciseFailed, match="NOT ATTEMPTED"):
        check_optimal_denoiser(stub)


def test_denoised_spread_passes():
    assert check_denoised_spread(lambda s, sigma: s ** 2 / (s ** 2 + sigma ** 2) * (s ** 2 + sigma ** 2) ** 0.5).passed


def test_denoised_spread_is_measured_spread():
    g = torch.Generator().manual_seed(2)
    s, sigma = 0.7, 0.4
    x_noisy = s * torch.randn(400_000, generator=g, dtype=torch.float64) + sigma * torch.randn(400_000, generator=g,
                                                                                          dtype=torch.float64)
    measured = float(gaussian_posterior_mean(x_noisy, 0.0, s, sigma).std())
    assert measured == pytest.approx(denoised_spread(s, sigma), rel=0.005)


@pytest.mark.parametrize("wrong, label", [
    (lambda s, sigma: s, "the spread of the data"),
    (lambda s, sigma: s ** 3 / (s ** 2 + sigma ** 2), "c times s"),
    (lambda s, sigma: (s ** 2 * sigma ** 2 / (s ** 2 + sigma ** 2)) ** 0.5, "the posterior standard deviation"),
    (lambda s, sigma: s ** 4 / (s ** 2 + sigma ** 2), "variance instead of standard deviation"),
])
def test_denoised_spread_mistakes(wrong, label):
    with pytest.raises(ExerciseFailed, match=re.escape(label)):
        check_denoised_spread(wrong)
