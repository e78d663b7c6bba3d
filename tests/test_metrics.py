"""aelab.metrics: the shared filter statistic on synthetic noise and on blobs of known width, and the
other numbers the notebooks assert on."""

import math

import numpy as np
import pytest
import torch

from aelab import metrics


def blobs(sigmas, side=28, sign=1.0):
    """Gaussian blobs w = exp(-r^2 / (2 s^2)) centred in a side x side image, one per sigma.

    w^2 is then a Gaussian of standard deviation s / sqrt(2) per axis, so the filter_stats spread,
    sqrt(E||p - E p||^2) over both axes, is exactly s (up to truncation at the border)."""
    r = torch.arange(side, dtype=torch.float64) - (side - 1) / 2
    rr = r.view(-1, 1) ** 2 + r.view(1, -1) ** 2
    return sign * torch.stack([torch.exp(-rr / (2 * s**2)) for s in sigmas])


def test_blob_spread_equals_its_width():
    sigmas = [1.0, 2.0, 3.0, 4.0]
    stats = metrics.filter_stats(blobs(sigmas))
    assert np.allclose(stats.spread, sigmas, rtol=2e-3)  # pixel sampling: +0.1 % at s = 1
    assert (stats.neighbour_correlation > 0.5).all()
    assert np.allclose(stats.negative_fraction, 0)


def test_negative_blob_counts_negative_energy():
    stats = metrics.filter_stats(blobs([2.0], sign=-1.0))
    assert stats.negative_fraction[0] == pytest.approx(1.0)
    assert stats.spread[0] == pytest.approx(2.0, rel=1e-3)


def test_half_negative_filter():
    w = blobs([2.0])[0]
    w[:, :14] *= -1
    assert metrics.filter_stats(w[None]).negative_fraction[0] == pytest.approx(0.5, abs=1e-9)


def test_noise_is_uncorrelated_and_spread_over_the_image():
    g = torch.Generator().manual_seed(0)
    stats = metrics.filter_stats(torch.randn(200, 28, 28, generator=g))
    assert abs(float(np.median(stats.neighbour_correlation))) < 0.05
    uniform_spread = math.sqrt(2 * (28**2 - 1) / 12)          # std of positions on a uniform 28-grid, both axes
    assert float(np.median(stats.spread)) == pytest.approx(uniform_spread, rel=0.03)
    assert float(np.median(stats.negative_fraction)) == pytest.approx(0.5, abs=0.05)


def test_smoothness_grows_with_blob_width():
    corr = metrics.filter_stats(blobs([0.7, 1.5, 3.0])).neighbour_correlation
    assert corr[0] < corr[1] < corr[2]


def test_localized_mask_tells_blobs_from_noise():
    g = torch.Generator().manual_seed(1)
    filters = torch.cat([blobs([2.0, 3.0]), torch.randn(2, 28, 28, generator=g, dtype=torch.float64)])
    assert metrics.filter_stats(filters).localized(side=28).tolist() == [True, True, False, False]


def test_shapes_accepted():
    w = blobs([2.0, 3.0])
    a = metrics.filter_stats(w).spread
    assert np.allclose(metrics.filter_stats(w.flatten(1), image_shape=(1, 28, 28)).spread, a)
    assert np.allclose(metrics.filter_stats(w[:, None]).spread, a)


def test_bad_inputs():
    with pytest.raises(ValueError, match="image_shape"):
        metrics.filter_stats(torch.zeros(3, 784))
    with pytest.raises(ValueError, match="single-channel"):
        metrics.filter_stats(torch.zeros(3, 2, 8, 8))
    with pytest.raises(ValueError, match="side"):
        metrics.filter_stats(blobs([2.0])).localized()


def test_summary_keys():
    assert set(metrics.filter_stats(blobs([2.0])).summary()) == {
        "median neighbour correlation", "median spread (px)", "median negative energy fraction"}


def test_psnr_and_dead_units():
    x = torch.zeros(2, 1, 4, 4)
    assert metrics.psnr(x + 0.1, x) == pytest.approx(20.0)
    codes = torch.tensor([[0.0, 0.5], [0.0, 0.0]])
    assert metrics.dead_units(codes) == 0.5
