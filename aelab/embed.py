"""Looking at codes: 2-D embeddings (PCA, t-SNE), how well they keep classes and neighbours
(k-nearest-neighbour accuracy, trustworthiness), latent grids for a 2-D decoder, and
reconstruction-error anomaly scores with their ROC AUC.

Everything takes and returns CPU tensors (float32 embeddings, float64 scores) so the notebooks
can pass the results straight to :mod:`aelab.viz`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import validation
from .pca import fit_pca
from .train import predict


def _points(z, name: str = "z", dims: int | None = None) -> torch.Tensor:
    if isinstance(z, np.ndarray):
        z = torch.from_numpy(z)
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of shape (N, D), got {type(z).__name__}.")
    z = z.detach().cpu()
    if z.ndim != 2 or len(z) == 0:
        raise ValueError(f"{name} must have shape (N, D) with N > 0, got {tuple(z.shape)}.")
    if dims is not None and z.shape[1] != dims:
        raise ValueError(f"{name} must have shape (N, {dims}), got {tuple(z.shape)}.")
    if not torch.is_floating_point(z) or not torch.isfinite(z).all():
        raise ValueError(f"{name} must hold finite floating-point values.")
    return z


def _labels(labels, n: int, name: str = "labels") -> torch.Tensor:
    if isinstance(labels, np.ndarray):
        labels = torch.from_numpy(labels)
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"{name} must be a 1-D tensor of length {n}, got "
                         f"{tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__}.")
    if torch.is_floating_point(labels) or labels.dtype == torch.bool or (labels < 0).any():
        raise ValueError(f"{name} must be non-negative integer class indices.")
    return labels.detach().cpu().long()




# --- 2-D embeddings ---------------------------------------------------------------------------

def pca_2d(z) -> torch.Tensor:
    """Coordinates of the points ``z`` (N, D) on their two leading principal components, (N, 2)."""
    z = _points(z)
    if len(z) < 2 or z.shape[1] < 2:
        raise ValueError(f"PCA to 2-D needs at least 2 points of at least 2 dimensions, got {tuple(z.shape)}.")
    return fit_pca(z, 2).encode(z).float()


def tsne_2d(z, perplexity: float = 30.0, seed: int = 0, max_iter: int = 1000, init: str = "pca",
            threads: int | None = 1) -> torch.Tensor:
    """scikit-learn's t-SNE of the points ``z`` (N, D) to (N, 2) (automatic learning rate, seeded).

    ``init="pca"`` starts from the PCA layout (which largely fixes where the clusters end up relative to
    each other), ``init="random"`` from random points. t-SNE has no ``transform``: it embeds exactly the
    points given. ``threads`` caps its OpenMP threads (default 1: a few thousand points take seconds on one
    thread, and one thread does not stall when other processes share the cores); None uses them all.
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    z = _points(z)
    if not (isinstance(perplexity, (int, float)) and 0 < perplexity < len(z)):
        raise ValueError(f"perplexity must be a number between 0 and N={len(z)}, got {perplexity!r}.")
    max_iter = validation.positive_int("max_iter", max_iter)
    if init not in ("pca", "random"):
        raise ValueError(f"init must be 'pca' or 'random', got {init!r}.")
    if threads is not None:
        threads = validation.positive_int("threads", threads)
    kwargs = {"n_components": 2, "perplexity": float(perplexity), "init": init, "learning_rate": "auto",
              "random_state": int(seed)}
    try:
        tsne = TSNE(max_iter=max_iter, **kwargs)
    except TypeError:  # scikit-learn < 1.5 calls it n_iter
        tsne = TSNE(n_iter=max_iter, **kwargs)
    with threadpool_limits(limits=threads):
        return torch.from_numpy(tsne.fit_transform(z.double().numpy())).float()


# --- how much structure an embedding keeps ------------------------------------------------------

def neighbours(z, k: int) -> torch.Tensor:
    """Indices (N, k) of each point's k nearest other points (Euclidean), nearest first.
    A point is never its own neighbour."""
    z = _points(z).double()
    k = validation.positive_int("k", k)
    if k >= len(z):
        raise ValueError(f"k={k} needs at least k + 1 = {k + 1} points, got {len(z)}.")
    d = torch.cdist(z, z)
    d.fill_diagonal_(math.inf)
    return d.topk(k, dim=1, largest=False).indices


def knn_hits(z, labels, k: int = 5) -> torch.Tensor:
    """Per point, whether leave-one-out k-nearest-neighbour voting gets its label right: (N,) bool.

    Each point's class is predicted by the majority label of its k nearest *other* points of ``z``
    (N, D) (ties go to the smallest class index). Two pictures of the same points give paired hits,
    so the standard error of a difference of accuracies is that of the per-point difference, if the
    points are treated as independent (an approximation: neighbours are shared).
    """
    z = _points(z)
    labels = _labels(labels, len(z))
    votes = labels[neighbours(z, k)]  # (N, k)
    counts = torch.zeros(len(z), int(labels.max()) + 1, dtype=torch.long)
    counts.scatter_add_(1, votes, torch.ones_like(votes))
    return counts.argmax(dim=1) == labels


def knn_accuracy(z, labels, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour accuracy of the points ``z`` (N, D) with ``labels`` (N,):
    the fraction of points whose k nearest *other* points vote for their label (``knn_hits``)."""
    return float(knn_hits(z, labels, k).double().mean())


def trustworthiness(x_high, z_low, k: int = 5) -> float:
    """scikit-learn's trustworthiness in [0, 1]: 1 when every point's k nearest neighbours in the
    embedding ``z_low`` (N, 2) are also near it in ``x_high`` (N, D); it penalizes false neighbours
    by how far down the original ranking they are."""
    from sklearn.manifold import trustworthiness as _trust

    x_high, z_low = _points(x_high.flatten(1) if isinstance(x_high, torch.Tensor) else x_high, "x_high"), \
        _points(z_low, "z_low")
    if len(x_high) != len(z_low):
        raise ValueError(f"x_high and z_low must have the same number of points, got {len(x_high)} and {len(z_low)}.")
    k = validation.positive_int("k", k)
    if k >= len(z_low) / 2:
        raise ValueError(f"k={k} must be below N/2 = {len(z_low) / 2:g}.")
    return float(_trust(x_high.double().numpy(), z_low.double().numpy(), n_neighbors=k))


# --- a 2-D latent plane -------------------------------------------------------------------------

def latent_grid(low, high, n: int) -> torch.Tensor:
    """The n x n grid of points of the rectangle [low[0], high[0]] x [low[1], high[1]], shape (n*n, 2),
    in the order a picture is read: row by row from the top (largest z2) down, each row from left
    (smallest z1) to right, endpoints included. Decoding it gives the images of a mosaic whose
    position (row, column) matches the point's position in a scatter plot of the plane."""
    n = validation.positive_int("n", n)
    low, high = torch.as_tensor(low, dtype=torch.float32), torch.as_tensor(high, dtype=torch.float32)
    if low.shape != (2,) or high.shape != (2,) or not (high > low).all():
        raise ValueError(f"low and high must be two (z1, z2) pairs with high > low, "
                         f"got {low.tolist()}, {high.tolist()}.")
    z1 = torch.linspace(float(low[0]), float(high[0]), n)
    z2 = torch.linspace(float(high[1]), float(low[1]), n)  # top row first
    rows, cols = torch.meshgrid(z2, z1, indexing="ij")
    return torch.stack([cols.flatten(), rows.flatten()], dim=1)


def code_box(z, lower: float = 1.0, upper: float = 99.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(low, high) corners of the box holding the codes ``z`` (N, 2) between two percentiles
    (default 1 and 99, so a few outliers do not stretch the grid)."""
    z = _points(z, dims=2)
    if not 0 <= lower < upper <= 100:
        raise ValueError(f"need 0 <= lower < upper <= 100, got {lower}, {upper}.")
    q = torch.tensor([lower / 100, upper / 100], dtype=torch.float64)
    box = torch.quantile(z.double(), q, dim=0).float()
    return box[0], box[1]


def distance_to_codes(points, codes) -> torch.Tensor:
    """For each of the points (M, 2), the distance to the nearest code (N, 2): large in the holes."""
    points, codes = _points(points, "points", dims=2).double(), _points(codes, "codes", dims=2).double()
    return torch.cdist(points, codes).amin(dim=1)


def plot_mosaic(images: torch.Tensor, low, high, n: int, ax=None, title: str | None = None,
                xlabel: str = "z1", ylabel: str = "z2"):
    """Draw the n*n decoded images of :func:`latent_grid` as one mosaic on latent-plane axes
    (each image centred on the point it was decoded from). Returns the Axes."""
    import matplotlib.pyplot as plt
    from torchvision.utils import make_grid

    n = validation.positive_int("n", n)
    if not isinstance(images, torch.Tensor) or len(images) != n * n:
        raise ValueError(f"images must be a tensor of n*n = {n * n} images, got "
                         f"{len(images) if isinstance(images, torch.Tensor) else type(images).__name__}.")
    x = images.detach().cpu().float()
    x = x.unsqueeze(1) if x.ndim == 3 else x
    grid = make_grid(x, nrow=n, padding=0)[0].numpy()
    low, high = [float(v) for v in low], [float(v) for v in high]
    half = [(high[i] - low[i]) / (2 * (n - 1)) if n > 1 else 0.5 for i in range(2)]
    ax = ax or plt.subplots(figsize=(6, 6))[1]
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto",
              extent=(low[0] - half[0], high[0] + half[0], low[1] - half[1], high[1] + half[1]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"Decoded {n} x {n} grid of the latent plane")
    return ax


# --- reconstruction-error anomaly scores --------------------------------------------------------

def reconstruction_errors(model, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Per-sample mean squared error between ``x`` (N, ...) and the model's reconstruction, (N,)
    float64: the anomaly score of a reconstruction-based detector (large = unusual)."""
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a tensor of shape (N, ...) with N > 0, got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}.")
    x_hat = predict(model, x, batch_size=batch_size)
    return (x_hat.double() - x.detach().cpu().double()).pow(2).flatten(1).mean(dim=1)


def roc_auc(scores, is_anomaly) -> float:
    """Area under the ROC curve of ``scores`` (N,) (larger = more anomalous) for the boolean
    ``is_anomaly`` (N,): the probability that a random anomaly scores above a random normal
    sample, ties counting one half (the Mann-Whitney statistic). 0.5 is chance; below 0.5 means
    the anomalies score *lower* than the normal samples."""
    scores = torch.as_tensor(scores).detach().cpu().double()
    is_anomaly = torch.as_tensor(is_anomaly).detach().cpu()
    if scores.ndim != 1 or is_anomaly.shape != scores.shape:
        raise ValueError(f"scores and is_anomaly must be 1-D of the same length, got {tuple(scores.shape)} "
                         f"and {tuple(is_anomaly.shape)}.")
    if not torch.isfinite(scores).all():
        raise ValueError("scores contain NaN or infinite values.")
    if is_anomaly.dtype != torch.bool:
        if not ((is_anomaly == 0) | (is_anomaly == 1)).all():
            raise ValueError("is_anomaly must be boolean (or 0/1).")
        is_anomaly = is_anomaly.bool()
    n_pos, n_neg = int(is_anomaly.sum()), int((~is_anomaly).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"the ROC AUC needs both anomalies and normal samples, got {n_pos} and {n_neg}.")
    from scipy.stats import rankdata

    ranks = torch.from_numpy(rankdata(scores.numpy()))  # average ranks: ties count one half
    return float((ranks[is_anomaly].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc_null_sd(n_anomalies: int, n_normal: int) -> float:
    """Standard deviation of the ROC AUC of a score that carries no information (AUC 0.5 on
    average): sqrt((n1 + n0 + 1) / (12 n1 n0)), the Mann-Whitney statistic's null spread."""
    n1, n0 = validation.positive_int("n_anomalies", n_anomalies), validation.positive_int("n_normal", n_normal)
    return math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))


def auc_standard_error(auc: float, n_anomalies: int, n_normal: int) -> float:
    """Standard error of a measured ROC AUC (Hanley and McNeil, 1982, exponential approximation):
    sqrt((A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)) / (n1 n0)), Q1 = A/(2-A), Q2 = 2A^2/(1+A).

    Use it to compare two measured AUCs; to test one against chance use ``auc_null_sd``."""
    n1, n0 = validation.positive_int("n_anomalies", n_anomalies), validation.positive_int("n_normal", n_normal)
    if not 0.0 <= auc <= 1.0:
        raise ValueError(f"auc must lie in [0, 1], got {auc}.")
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) / (n1 * n0)
    return math.sqrt(max(variance, 0.0))


def roc_curve(scores, is_anomaly) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rates, true-positive rates) of thresholding ``scores`` (larger = anomaly)."""
    from sklearn.metrics import roc_curve as _roc

    roc_auc(scores, is_anomaly)  # the same validation
    fpr, tpr, _ = _roc(torch.as_tensor(is_anomaly).cpu().long().numpy(), torch.as_tensor(scores).cpu().double().numpy())
    return fpr, tpr
