"""Numbers the notebooks assert on: PSNR, the filter statistic, dead units, linear probes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


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


def filter_stats(filters: torch.Tensor, image_shape=None) -> FilterStats:
    """Statistics of filters of shape (n, H, W), (n, 1, H, W), or (n, D) with ``image_shape``."""
    w = filters.detach().to("cpu", torch.float64)
    if w.ndim == 2:
        if image_shape is None:
            raise ValueError("flat filters (n, D) need image_shape=(H, W) or (1, H, W).")
        w = w.reshape(len(w), *tuple(image_shape)[-2:])
    elif w.ndim == 4:
        if w.shape[1] != 1:
            raise ValueError("filter_stats works on single-channel filters.")
        w = w[:, 0]
    if w.ndim != 3 or w.shape[1] < 2 or w.shape[2] < 2:
        raise ValueError(f"filters must have shape (n, H, W) with H, W >= 2, got {tuple(filters.shape)}.")
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


def dead_units(codes: torch.Tensor, threshold: float = 1e-3) -> float:
    """Fraction of code units whose activation never exceeds ``threshold`` in absolute value
    over the given samples (N, H): units that carry no information."""
    if codes.ndim != 2:
        raise ValueError(f"codes must have shape (N, H), got {tuple(codes.shape)}.")
    return float((codes.detach().abs().amax(dim=0) <= threshold).double().mean())


def linear_probe(train_features: torch.Tensor, train_labels: torch.Tensor, test_features: torch.Tensor,
                 test_labels: torch.Tensor, max_iter: int = 500, C: float = 1.0) -> float:
    """Test accuracy of a logistic regression trained on the features (standardized first)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def as_np(t):
        return t.detach().cpu().flatten(1).numpy() if t.ndim > 1 else t.detach().cpu().numpy()

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, C=C))
    clf.fit(as_np(train_features), as_np(train_labels))
    return float(clf.score(as_np(test_features), as_np(test_labels)))
