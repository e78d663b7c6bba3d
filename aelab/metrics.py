"""Numbers the notebooks assert on: PSNR, the filter statistics (incl. a Gabor fit), dead units, linear probes,
and the rule that compares two trained recipes over training seeds."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from . import validation


def psnr(x: torch.Tensor, reference: torch.Tensor, max_value: float = 1.0) -> float:
    """Mean over images of the peak signal-to-noise ratio 10 log10(max^2 / MSE), in dB.

    ``x`` and ``reference`` have the same shape (N, ...). An exact copy would be infinite, so
    the per-image MSE is floored at 1e-10 (100 dB).
    """
    if x.shape != reference.shape:
        raise ValueError(f"psnr needs equal shapes, got {tuple(x.shape)} and {tuple(reference.shape)}.")
    mse = (x.double() - reference.double()).pow(2).flatten(1).mean(dim=1).clamp_min(1e-10)
    return float((10 * torch.log10(max_value**2 / mse)).mean())


@dataclass
class FilterStats:
    """Per-filter statistics of first-layer weights, each an array of shape (n_filters,).

    neighbour_correlation: correlation of each weight with its right and lower neighbours:
        about 0 for pixel noise, near 1 for smooth strokes and blobs.
    spread: radius of the filter's energy, sqrt(E||p - E p||^2) of pixel positions p weighted
        by w^2, in pixels: small for a localized detector, about 0.4 * side for a filter spread
        over the whole image.
    negative_fraction: fraction of the filter's energy (sum of w^2) in negative weights.
    """

    neighbour_correlation: np.ndarray
    spread: np.ndarray
    negative_fraction: np.ndarray

    def localized(self, min_correlation: float = 0.5, max_spread: float | None = None,
                  side: int | None = None) -> np.ndarray:
        """Boolean mask of filters that are smooth (correlation >= ``min_correlation``) and
        compact (spread <= ``max_spread``, default a quarter of ``side``)."""
        if max_spread is None:
            if side is None:
                raise ValueError("give max_spread, or side (the image side) for the default side / 4.")
            max_spread = side / 4
        return (self.neighbour_correlation >= min_correlation) & (self.spread <= max_spread)

    def summary(self) -> dict[str, float]:
        return {"median neighbour correlation": float(np.median(self.neighbour_correlation)),
                "median spread (px)": float(np.median(self.spread)),
                "median negative energy fraction": float(np.median(self.negative_fraction))}


def _as_images(filters: torch.Tensor, image_shape, who: str) -> torch.Tensor:
    """Filters of shape (n, H, W), (n, 1, H, W), or (n, D) with ``image_shape`` -> float64 (n, H, W)."""
    w = filters.detach().to("cpu", torch.float64)
    if w.ndim == 2:
        if image_shape is None:
            raise ValueError(f"flat filters (n, D) need image_shape=(H, W) or (1, H, W) in {who}.")
        w = w.reshape(len(w), *tuple(image_shape)[-2:])
    elif w.ndim == 4:
        if w.shape[1] != 1:
            raise ValueError(f"{who} works on single-channel filters.")
        w = w[:, 0]
    if w.ndim != 3 or w.shape[1] < 2 or w.shape[2] < 2:
        raise ValueError(f"filters must have shape (n, H, W) with H, W >= 2, got {tuple(filters.shape)}.")
    return w


def filter_stats(filters: torch.Tensor, image_shape=None) -> FilterStats:
    """Statistics of filters of shape (n, H, W), (n, 1, H, W), or (n, D) with ``image_shape``."""
    w = _as_images(filters, image_shape, "filter_stats")
    n, h, width = w.shape

    pairs_a = torch.cat([w[:, :, :-1].reshape(n, -1), w[:, :-1, :].reshape(n, -1)], dim=1)
    pairs_b = torch.cat([w[:, :, 1:].reshape(n, -1), w[:, 1:, :].reshape(n, -1)], dim=1)
    a = pairs_a - pairs_a.mean(dim=1, keepdim=True)
    b = pairs_b - pairs_b.mean(dim=1, keepdim=True)
    corr = (a * b).sum(1) / (a.pow(2).sum(1).sqrt() * b.pow(2).sum(1).sqrt()).clamp_min(1e-12)

    energy = w.pow(2)
    total = energy.sum(dim=(1, 2)).clamp_min(1e-12)
    rows = torch.arange(h, dtype=torch.float64).view(1, h, 1)
    cols = torch.arange(width, dtype=torch.float64).view(1, 1, width)
    mean_r = (energy * rows).sum(dim=(1, 2)) / total
    mean_c = (energy * cols).sum(dim=(1, 2)) / total
    var = (energy * ((rows - mean_r.view(n, 1, 1)) ** 2 + (cols - mean_c.view(n, 1, 1)) ** 2)).sum(dim=(1, 2)) / total
    negative = (energy * (w < 0)).sum(dim=(1, 2)) / total
    return FilterStats(corr.numpy(), var.sqrt().numpy(), negative.numpy())


@dataclass
class GaborFit:
    """The best-fitting Gabor (oriented edge or bar) of each filter, arrays of shape (n_filters,).

    r2: share of the filter's energy ||w||^2 explained by its best Gabor, in [0, 1]: 1 for an
        exact Gabor, small for pixel noise (compare with ``gabor_fit`` of noise of the same shape).
    orientation: direction of the stripes' normal in degrees, in [0, 180) (0: vertical stripes).
    wavelength: period of the stripes in pixels.
    center_row, center_col: centre of the Gaussian envelope, in pixels.
    fitted: the best Gabor itself, shape (n_filters, H, W), on the filter's scale (to draw beside it).
    """

    r2: np.ndarray
    orientation: np.ndarray
    wavelength: np.ndarray
    center_row: np.ndarray
    center_col: np.ndarray
    fitted: np.ndarray


@functools.lru_cache(maxsize=2)
def _gabor_bank(h: int, width: int) -> tuple[torch.Tensor, np.ndarray]:
    """Orthonormal (even, odd) Gabor pairs on an h x width grid: (P, 2, h*width) and their parameters (P, 5)."""
    # Envelope centres every half pixel (up to about 15 x 15 of them): a small envelope placed half a
    # pixel off loses a lot of its fit.
    step_r, step_c = max(h, 8) / 16, max(width, 8) / 16
    side = min(h, width)
    centres_r = torch.arange(0, h - 1 + 1e-9, step_r, dtype=torch.float64)
    centres_c = torch.arange(0, width - 1 + 1e-9, step_c, dtype=torch.float64)
    thetas = torch.deg2rad(torch.arange(0, 180, 15, dtype=torch.float64))
    wavelengths = torch.tensor([3.0, 4.0, 6.0, 8.0, 12.0], dtype=torch.float64) * side / 8
    sig_across = torch.tensor([1.0, 1.5, 2.5], dtype=torch.float64) * side / 8
    sig_along = torch.tensor([1.5, 3.0], dtype=torch.float64) * side / 8
    grid = torch.cartesian_prod(centres_r, centres_c, thetas, wavelengths, sig_across, sig_along)   # (P, 6)
    r0, c0, th, lam, sa, sb = (g.view(-1, 1, 1) for g in grid.T)
    rows = torch.arange(h, dtype=torch.float64).view(1, h, 1)
    cols = torch.arange(width, dtype=torch.float64).view(1, 1, width)
    across = (cols - c0) * torch.cos(th) + (rows - r0) * torch.sin(th)
    along = -(cols - c0) * torch.sin(th) + (rows - r0) * torch.cos(th)
    envelope = torch.exp(-across**2 / (2 * sa**2) - along**2 / (2 * sb**2))
    even = (envelope * torch.cos(2 * math.pi * across / lam)).flatten(1)
    odd = (envelope * torch.sin(2 * math.pi * across / lam)).flatten(1)
    even = even / even.norm(dim=1, keepdim=True)
    odd = odd - (odd * even).sum(1, keepdim=True) * even            # Gram-Schmidt: fit amplitude and phase
    odd_norm = odd.norm(dim=1, keepdim=True)
    odd = torch.where(odd_norm > 1e-8, odd / odd_norm.clamp_min(1e-8), torch.zeros_like(odd))
    params = torch.stack([grid[:, 0], grid[:, 1], torch.rad2deg(grid[:, 2]), grid[:, 3]], dim=1).numpy()
    return torch.stack([even, odd], dim=1).float(), params      # float32: the bank is large


def gabor_fit(filters: torch.Tensor, image_shape=None) -> GaborFit:
    """Fit each filter with the best Gabor function (an oriented edge or bar) from a fixed bank.

    A Gabor is a plane wave cos(2 pi u / wavelength + phase) under a Gaussian envelope, u the
    coordinate across the stripes. The bank covers envelope centres every half pixel,
    12 orientations (15 degree steps), 5 wavelengths and 6 envelope shapes; amplitude and phase are
    fitted exactly (least squares onto the even/odd pair). ``r2`` is the share of ||w||^2 the best
    pair explains. Pixel noise also finds some pair that fits a little, so judge ``r2`` against the
    same fit on noise filters of the same shape (the notebooks use its 99th percentile).

    Args:
        filters: (n, H, W), (n, 1, H, W), or (n, D) with ``image_shape``; meant for small patches
            (the bank is built for H, W up to about 16 at full resolution).
    """
    w = _as_images(filters, image_shape, "gabor_fit")
    n, h, width = w.shape
    bank, params = _gabor_bank(h, width)
    flat = w.reshape(n, -1)
    energy = flat.pow(2).sum(1).clamp_min(1e-300)
    best = torch.full((n,), -1.0, dtype=torch.float64)               # energy explained by the best pair so far
    best_index = torch.zeros(n, dtype=torch.long)
    chunk_size = max(64, 2**22 // max(n, 1))                          # bounded memory: about 64 MB per chunk
    for start in range(0, len(bank), chunk_size):
        chunk = bank[start:start + chunk_size].double()                # (c, 2, D)
        # one matrix product for the even and odd members of every pair, squared in place: the
        # element-wise passes over this (n, 2c) block, not the product, dominate the time
        explained = (flat @ chunk.flatten(0, 1).T).square_().view(n, -1, 2).sum(-1)   # (n, c)
        value, index = explained.max(dim=1)
        better = value > best
        best = torch.where(better, value, best)
        best_index = torch.where(better, index + start, best_index)
    best_r2 = best / energy
    pair = bank[best_index].double()                                  # (n, 2, D)
    fitted = torch.einsum("nkd,nk->nd", pair, torch.einsum("nkd,nd->nk", pair, flat)).reshape(n, h, width)
    p = params[best_index.numpy()]
    return GaborFit(best_r2.clamp(0, 1).numpy(), p[:, 2], p[:, 3], p[:, 0], p[:, 1], fitted.numpy())


def phase_randomised(filters: torch.Tensor, n_copies: int, image_shape=None, *,
                     generator: torch.Generator) -> torch.Tensor:
    """A null for "this filter is Gabor-like": copies with the same power spectrum, phases random.

    Each filter's 2-D Fourier amplitudes are kept and its phases replaced by those of the Fourier
    transform of real white noise (Hermitian, so every copy is real): a copy is as smooth and as
    band-pass as its filter, with its arrangement in space destroyed. A filter that fits a Gabor
    better than all ``n_copies`` of its copies does so with probability 1 / (n_copies + 1) under the
    null that its arrangement is random. Beating the null is not "being an edge": a blob beats it too,
    and an extended grating (whose copies are the same grating, shifted) only at about chance.

    Args:
        filters: (n, H, W), (n, 1, H, W), or (n, D) with ``image_shape``.
        generator: the source of the random phases (explicit, so the null is reproducible).

    Returns:
        float32 tensor of shape (n, n_copies, H * W).
    """
    validation.positive_int("n_copies", n_copies)
    w = _as_images(filters, image_shape, "phase_randomised")
    n, h, width = w.shape
    spectrum = torch.fft.fft2(w.reshape(n, 1, h, width))
    noise = torch.fft.fft2(torch.randn(n, n_copies, h, width, generator=generator, dtype=torch.float64))
    copies = torch.fft.ifft2(spectrum.abs() * noise / noise.abs().clamp_min(1e-300))
    return copies.real.reshape(n, n_copies, h * width).float()


def dead_units(codes: torch.Tensor, threshold: float = 1e-3) -> float:
    """Fraction of code units whose activation never exceeds ``threshold`` in absolute value
    over the given samples (N, H): units that carry no information."""
    if codes.ndim != 2:
        raise ValueError(f"codes must have shape (N, H), got {tuple(codes.shape)}.")
    return float((codes.detach().abs().amax(dim=0) <= threshold).double().mean())


def linear_probe(train_features: torch.Tensor, train_labels: torch.Tensor, test_features: torch.Tensor,
                 test_labels: torch.Tensor, max_iter: int = 500, C: float = 1.0) -> float:
    """Test accuracy of a logistic regression trained on the features (standardized first)."""
    return float(linear_probe_correct(train_features, train_labels, test_features, test_labels,
                                      max_iter=max_iter, C=C).mean())


def linear_probe_correct(train_features: torch.Tensor, train_labels: torch.Tensor, test_features: torch.Tensor,
                         test_labels: torch.Tensor, max_iter: int = 500, C: float = 1.0) -> np.ndarray:
    """Per test image, whether :func:`linear_probe`'s classifier gets it right: bool, shape (N_test,).

    Two probes scored on the same test images give paired per-image differences (their mean is the
    difference of the accuracies), whose spread is the sampling error of that difference.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def as_np(t):
        return t.detach().cpu().flatten(1).numpy() if t.ndim > 1 else t.detach().cpu().numpy()

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, C=C))
    clf.fit(as_np(train_features), as_np(train_labels))
    return clf.predict(as_np(test_features)) == as_np(test_labels)


class SeedComparison(NamedTuple):
    """The course's rule for comparing two trained recipes (see :func:`seed_comparison`)."""

    mean: float          # mean over the seeds of the per-seed difference d_s
    se: float            # its standard error: seed_se and sampling_se in quadrature
    t: float             # mean / se; a direction is claimed when |t| > 3
    seed_se: float       # sd(d_s) / sqrt(n_seeds), ddof 1
    sampling_se: float   # from the evaluation data (test points, units, filters); 0 if not given


def seed_comparison(differences, sampling_se=None) -> SeedComparison:
    """Compare two recipes trained from the same seeds: the course's house rule.

    ``differences`` is either shape (n_seeds,), one difference d_s per training seed (recipe A's
    statistic minus recipe B's), or shape (n_seeds, n_points), per-point paired differences on the
    **same** evaluation points for every seed; then d_s is each row's mean and the sampling standard
    error is computed here, from the points: the standard deviation over the points of the per-point
    difference averaged over the seeds, divided by sqrt(n_points). With one difference per seed,
    ``sampling_se`` gives that error from elsewhere: a number is the standard error of the mean
    difference; a sequence of n_seeds numbers is each seed's own standard error, independent between
    seeds (a bootstrap over each model's own units or filters), combined as sqrt(sum se_s^2) / n_seeds.
    With the 2-D form it must be left out.

    Two sources of error are combined **in quadrature**, SE = sqrt(seed_se^2 + sampling_se^2):
    the training seeds, seed_se = sd(d_s)/sqrt(n) (ddof 1), and the evaluation data. When every seed
    is evaluated on the same points, the points' sampling error is common to all seeds, so it does not
    show in the seed spread, and their variances add (the seed-by-point interaction is in both terms, so
    it is counted twice: the sum is conservative). Where the sampling error is not common, units of
    different models say, the seed spread already contains it, and the sum is conservative again.
    A direction is claimed when |t| = |mean| / SE > 3: with 3 seeds, seed_se has 2
    degrees of freedom and 3 is about Student's one-sided 95 % quantile, t(0.95, 2) = 2.92.
    """
    d = np.asarray(differences.detach().cpu() if isinstance(differences, torch.Tensor) else differences,
                   dtype=float)
    if d.ndim == 2:
        if sampling_se is not None:
            raise ValueError("seed_comparison: per-point differences (n_seeds, n_points) give their own "
                             "sampling SE; pass sampling_se only with one difference per seed.")
        if d.shape[1] < 2:
            raise ValueError(f"seed_comparison needs at least 2 points per seed, got shape {d.shape}.")
        sampling_se = float(d.mean(axis=0).std(ddof=1) / np.sqrt(d.shape[1]))
        d = d.mean(axis=1)
    if d.ndim != 1 or len(d) < 2:
        raise ValueError(f"seed_comparison needs differences of shape (n_seeds,) or (n_seeds, n_points) "
                         f"with at least 2 seeds, got shape {d.shape}.")
    if not np.isfinite(d).all():
        raise ValueError("seed_comparison: a difference is not finite; check the models it compares.")
    if sampling_se is None:
        sampling_se = 0.0
    elif np.ndim(sampling_se) == 1:
        if len(sampling_se) != len(d):
            raise ValueError(f"seed_comparison: {len(sampling_se)} per-seed sampling SEs for {len(d)} seeds.")
        sampling_se = float(np.sqrt(np.sum(np.square(np.asarray(sampling_se, dtype=float)))) / len(d))
    else:
        sampling_se = float(sampling_se)
    if not (sampling_se >= 0 and np.isfinite(sampling_se)):
        raise ValueError(f"sampling_se must be a finite number >= 0, got {sampling_se}.")
    seed_se = float(d.std(ddof=1) / np.sqrt(len(d)))
    se = float(np.hypot(seed_se, sampling_se))
    mean = float(d.mean())
    t = mean / se if se > 0 else (0.0 if mean == 0 else math.copysign(math.inf, mean))
    return SeedComparison(mean, se, t, seed_se, sampling_se)
