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


def gabor(theta_deg, wavelength, phase=0.3, centre=(3.5, 3.5), sigma=(1.8, 2.5), side=8):
    """A Gabor off the fitting bank's grid (half-pixel centre, any angle): stripes across theta."""
    rows = torch.arange(side, dtype=torch.float64).view(-1, 1) - centre[0]
    cols = torch.arange(side, dtype=torch.float64).view(1, -1) - centre[1]
    t = math.radians(theta_deg)
    across = cols * math.cos(t) + rows * math.sin(t)
    along = -cols * math.sin(t) + rows * math.cos(t)
    envelope = torch.exp(-across**2 / (2 * sigma[0] ** 2) - along**2 / (2 * sigma[1] ** 2))
    return envelope * torch.cos(2 * math.pi * across / wavelength + phase)


def test_gabor_fit_recovers_gabors_off_the_grid():
    angles = [0, 37, 80, 123, 160]
    fit = metrics.gabor_fit(torch.stack([gabor(a, 5.0) for a in angles]))
    # wavelength 5 and envelope (1.8, 2.5) lie between the bank's values: measured r2 0.85-0.91
    assert (fit.r2 > 0.8).all()
    # orientation is defined modulo 180 degrees; the bank's step is 15 degrees
    error = np.abs((fit.orientation - np.array(angles) + 90) % 180 - 90)
    assert (error <= 7.5 + 1e-9).all()
    assert (np.abs(fit.center_row - 3.5) <= 1).all() and (np.abs(fit.center_col - 3.5) <= 1).all()


def test_gabor_fit_is_scale_and_sign_invariant():
    w = gabor(45, 4.0)
    fit = metrics.gabor_fit(torch.stack([w, -3 * w, 0.01 * w]))
    assert np.allclose(fit.r2, fit.r2[0])
    assert np.allclose(fit.fitted[1], -3 * fit.fitted[0]) and np.allclose(fit.fitted[2], 0.01 * fit.fitted[0])


def test_gabor_fit_fitted_is_the_projection():
    g = torch.Generator().manual_seed(3)
    w = gabor(60, 4.0) + 0.2 * torch.randn(8, 8, generator=g, dtype=torch.float64)
    fit = metrics.gabor_fit(w[None])
    fitted = torch.from_numpy(fit.fitted[0])
    # least squares: the residual is orthogonal to the fit, and the fit holds r2 of the energy
    # (to the float32 precision the bank is stored in)
    assert float((w - fitted).flatten() @ fitted.flatten()) == pytest.approx(0, abs=1e-6)
    assert float(fitted.pow(2).sum() / w.pow(2).sum()) == pytest.approx(fit.r2[0], rel=1e-6)


def test_gabor_fit_tells_edges_from_noise():
    g = torch.Generator().manual_seed(0)
    noise = metrics.gabor_fit(torch.randn(500, 8, 8, generator=g, dtype=torch.float64))
    edges = metrics.gabor_fit(torch.stack([gabor(a, w, p) for a in (10, 70, 130) for w in (3.5, 6.0)
                                           for p in (0.0, 1.57)]))
    assert float(np.quantile(noise.r2, 0.99)) < 0.45 < float(edges.r2.min())
    assert 0 <= noise.r2.min() and noise.r2.max() <= 1


def test_gabor_fit_shapes_and_bad_input():
    w = torch.stack([gabor(20, 4.0), gabor(100, 6.0)])
    a = metrics.gabor_fit(w).r2
    assert np.allclose(metrics.gabor_fit(w.flatten(1), image_shape=(8, 8)).r2, a)
    assert np.allclose(metrics.gabor_fit(w[:, None]).r2, a)
    with pytest.raises(ValueError, match="image_shape"):
        metrics.gabor_fit(w.flatten(1))


def test_phase_randomised_keeps_the_power_spectrum_and_scrambles_the_arrangement():
    w = torch.stack([gabor(a, 5.0) for a in (0, 45, 90)]).double()
    copies = metrics.phase_randomised(w.flatten(1), 50, (8, 8), generator=torch.Generator().manual_seed(1))
    assert copies.shape == (3, 50, 64) and copies.dtype == torch.float32
    amplitude = torch.fft.fft2(copies.double().reshape(3, 50, 8, 8)).abs()
    assert torch.allclose(amplitude, torch.fft.fft2(w).abs()[:, None].expand_as(amplitude), atol=1e-5)
    # (the imaginary part is dropped: had it not been zero, the amplitudes would not have survived),
    # and an oriented edge fits a Gabor better than every one of its copies
    r2 = metrics.gabor_fit(w).r2
    null = metrics.gabor_fit(copies.flatten(0, 1), (8, 8)).r2.reshape(3, 50)
    assert (r2[:, None] > null).all()
    # white noise is exchangeable with its copies: 1 / (n + 1) of noise filters beat all n of them
    noise = torch.randn(300, 36, generator=torch.Generator().manual_seed(2))
    beats = (metrics.gabor_fit(noise, (6, 6)).r2[:, None] > metrics.gabor_fit(
        metrics.phase_randomised(noise, 5, (6, 6), generator=torch.Generator().manual_seed(3)).flatten(0, 1),
        (6, 6)).r2.reshape(300, 5)).all(axis=1).mean()
    assert abs(beats - 1 / 6) < 4 * math.sqrt(1 / 6 * 5 / 6 / 300)     # 4 binomial SEs


def test_phase_randomised_is_reproducible_and_validates():
    w = torch.randn(5, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    a = metrics.phase_randomised(w, 3, generator=torch.Generator().manual_seed(7))
    b = metrics.phase_randomised(w, 3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and a.shape == (5, 3, 36)
    with pytest.raises(ValueError, match="n_copies"):
        metrics.phase_randomised(w, 0, generator=torch.Generator())
    with pytest.raises(ValueError, match="image_shape"):
        metrics.phase_randomised(w.flatten(1), 3, generator=torch.Generator())


# --- seed_comparison: the house rule for two recipes trained from the same seeds ---

def test_seed_comparison_one_difference_per_seed():
    c = metrics.seed_comparison([1.0, 2.0, 3.0])
    assert c.mean == pytest.approx(2.0) and c.seed_se == pytest.approx(1 / np.sqrt(3))
    assert c.sampling_se == 0 and c.se == pytest.approx(c.seed_se) and c.t == pytest.approx(2 * np.sqrt(3))
    mean, se, t, *_ = c                                   # unpacks like the notebooks' (mean, se, t)
    assert (mean, se, t) == (c.mean, c.se, c.t)


def test_seed_comparison_adds_the_sampling_error_in_quadrature():
    c = metrics.seed_comparison([1.0, 2.0, 3.0], sampling_se=1.0)
    assert c.se == pytest.approx(np.sqrt(1 / 3 + 1)) and c.t == pytest.approx(2 / np.sqrt(4 / 3))
    per_seed = metrics.seed_comparison([1.0, 2.0, 3.0], sampling_se=[0.3, 0.4, 1.2])   # independent per seed
    assert per_seed.sampling_se == pytest.approx(1.3 / 3)


def test_seed_comparison_per_point_sees_the_common_point_error():
    # d_si = a_s + b_i: the point effects b are common to the seeds, so the row means do not vary with
    # them (seed SE from a only) while the points' sampling SE is sd(b) / sqrt(N)
    gen = np.random.default_rng(0)
    a, b = np.array([0.1, 0.3, 0.2]), gen.normal(size=400)
    c = metrics.seed_comparison(a[:, None] + b[None, :])
    assert c.seed_se == pytest.approx(a.std(ddof=1) / np.sqrt(3))
    assert c.sampling_se == pytest.approx(b.std(ddof=1) / np.sqrt(400))
    assert c.mean == pytest.approx(a.mean() + b.mean())
    assert c.se == pytest.approx(np.hypot(c.seed_se, c.sampling_se))
    assert metrics.seed_comparison(torch.tensor(a[:, None] + b[None, :])).t == pytest.approx(c.t)


def test_seed_comparison_rarely_claims_a_difference_that_is_not_there():
    # Null (true mean 0) with a seed effect and a common point effect of equal size: the rule |t| > 3
    # in one direction must fire at most about as often as Student's t with 2 df, 4.8 % (measured about
    # 0.3 %); the seed SE alone, blind to the common point error, fires about 13 % of the time here
    gen = np.random.default_rng(1)
    n_points, runs = 200, 2000
    t = np.array([metrics.seed_comparison(gen.normal(0, 0.1, (3, 1))
                                          + gen.normal(0, 0.1 * np.sqrt(n_points), (1, n_points))
                                          + gen.normal(0, 0.5, (3, n_points))).t for _ in range(runs)])
    assert (t > 3).mean() < 0.06 and (t < -3).mean() < 0.06
    assert np.isfinite(t).all()


def test_seed_comparison_zero_spread_and_bad_input():
    assert metrics.seed_comparison([1.0, 1.0, 1.0]).t == np.inf
    assert metrics.seed_comparison([-1.0, -1.0]).t == -np.inf
    assert metrics.seed_comparison([0.0, 0.0]).t == 0
    for bad, kwargs, match in [([1.0], {}, "at least 2 seeds"), ([1.0, np.nan, 2.0], {}, "not finite"),
                               (np.zeros((3, 4)), {"sampling_se": 0.1}, "only with one difference per seed"),
                               (np.zeros((3, 1)), {}, "at least 2 points"),
                               ([1.0, 2.0], {"sampling_se": -1.0}, "finite number >= 0"),
                               ([1.0, 2.0], {"sampling_se": [0.1, 0.2, 0.3]}, "3 per-seed sampling SEs for 2"),
                               (np.zeros((2, 2, 2)), {}, "shape")]:
        with pytest.raises(ValueError, match=match):
            metrics.seed_comparison(bad, **kwargs)


def test_linear_probe_per_image_and_accuracy_agree():
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(300) % 3
    noise = torch.randn(300, 3, generator=gen, dtype=torch.float64)
    features = torch.nn.functional.one_hot(labels, 3).double() * 4 + noise
    correct = metrics.linear_probe_correct(features[:200], labels[:200], features[200:], labels[200:])
    assert correct.shape == (100,) and correct.dtype == bool and correct.mean() > 0.9
    assert metrics.linear_probe(features[:200], labels[:200], features[200:], labels[200:]) == correct.mean()
    noise = torch.randn(300, 3, generator=gen, dtype=torch.float64)            # features that carry no label
    assert metrics.linear_probe(noise[:200], labels[:200], noise[200:], labels[200:]) < 0.6
