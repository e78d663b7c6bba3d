"""Principal component analysis two ways (eigen-decomposition of the covariance, SVD of the data)
and principal angles between subspaces. Everything is computed in float64."""

from __future__ import annotations

from dataclasses import dataclass

import torch


def _as_matrix(x: torch.Tensor) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ValueError("expected a tensor of shape (N, D) or (N, C, H, W).")
    x = x.detach().to("cpu", torch.float64).flatten(1)
    if not torch.isfinite(x).all():
        raise ValueError("the data contains NaN or infinite values.")
    return x


def covariance(x: torch.Tensor) -> torch.Tensor:
    """Sample covariance C = 1/N sum_n (x_n - mean)(x_n - mean)^T of data (N, D) -> (D, D).

    The lecture's 1/N convention (not 1/(N-1)), so that C's eigenvalues are the variances of the
    projections and the mean squared reconstruction error is the sum of the discarded ones.
    """
    x = _as_matrix(x)
    centred = x - x.mean(dim=0)
    return centred.T @ centred / len(x)


@dataclass
class PCA:
    """A fitted PCA. ``components`` has shape (D, k), orthonormal columns sorted by decreasing
    ``eigenvalues`` (the variance along each); ``all_eigenvalues`` has all D of them."""

    mean: torch.Tensor
    components: torch.Tensor
    eigenvalues: torch.Tensor
    all_eigenvalues: torch.Tensor

    @property
    def k(self) -> int:
        return self.components.shape[1]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Coordinates z = U^T (x - mean), shape (N, k)."""
        return (_as_matrix(x) - self.mean) @ self.components

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstructions mean + U z, shape (N, D) (flat)."""
        return self.mean + z.to(torch.float64) @ self.components.T

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Project onto the k components and back, in ``x``'s shape."""
        return self.decode(self.encode(x)).reshape(x.shape)

    def explained_variance_ratio(self) -> torch.Tensor:
        """Fraction of the total variance along each kept component."""
        return self.eigenvalues / self.all_eigenvalues.sum()


def fit_pca(x: torch.Tensor, k: int | None = None, method: str = "eig") -> PCA:
    """Fit PCA to data of shape (N, D) or (N, C, H, W), keeping ``k`` components (None: all).

    ``method="eig"`` diagonalizes the D x D covariance; ``method="svd"`` takes the SVD of the
    centred N x D data, X_c = U S V^T, whose right singular vectors are the same directions
    with eigenvalues S^2 / N. (The slides' derivation inverts X X^T, an N x N matrix of rank at
    most D: singular whenever N > D. The SVD route needs no inverse.)
    """
    x = _as_matrix(x)
    n, d = x.shape
    k = d if k is None else k
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= d:
        raise ValueError(f"k must be an integer between 1 and D={d}, got {k!r}.")
    mean = x.mean(dim=0)
    if method == "eig":
        values, vectors = torch.linalg.eigh(covariance(x))
        values, vectors = values.flip(0).clamp_min(0), vectors.flip(1)
    elif method == "svd":
        _, s, vh = torch.linalg.svd(x - mean, full_matrices=False)
        vectors, values = vh.T, s**2 / n
        if len(values) < d:
            values = torch.cat([values, values.new_zeros(d - len(values))])
    else:
        raise ValueError(f"method must be 'eig' or 'svd', got {method!r}.")
    # Fix each direction's sign (largest entry positive) so both methods return the same basis.
    signs = torch.sign(vectors.gather(0, vectors.abs().argmax(dim=0, keepdim=True)))
    vectors = vectors * torch.where(signs == 0, 1.0, signs)
    return PCA(mean=mean, components=vectors[:, :k], eigenvalues=values[:k], all_eigenvalues=values)


def principal_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Principal angles in degrees between the column spaces of ``a`` (D, k) and ``b`` (D, m).

    Any bases will do (they are orthonormalized first). Returns min(k, m) angles, smallest first;
    all zero means the subspaces coincide.
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError("expected matrices (D, k) and (D, m) with the same D, "
                         f"got {tuple(a.shape)}, {tuple(b.shape)}.")
    qa, _ = torch.linalg.qr(a.detach().to("cpu", torch.float64))
    qb, _ = torch.linalg.qr(b.detach().to("cpu", torch.float64))
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)
    return torch.rad2deg(torch.arccos(cosines))


def shuffle_pixels(x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The same data with each pixel (feature) permuted independently across the samples.

    Every pixel keeps exactly its values (so its mean and variance), but the correlations
    between pixels are destroyed: the control experiment for "compression needs correlation".
    Input (N, D) or (N, C, H, W); output the same shape and dtype.
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or len(x) < 2:
        raise ValueError("expected a tensor of shape (N, D) or (N, C, H, W) with N >= 2.")
    flat = x.flatten(1)
    generator = torch.Generator().manual_seed(int(seed))
    order = torch.argsort(torch.rand(flat.shape, generator=generator), dim=0).to(flat.device)
    return flat.gather(0, order).reshape(x.shape)


def eigengaps(eigenvalues: torch.Tensor) -> torch.Tensor:
    """Ratios lambda_k / lambda_(k+1) for k = 1 .. len - 1 (index 0 is k = 1); inf where
    lambda_(k+1) is zero. Large ratio: the top-k subspace is well separated from the rest."""
    values = torch.as_tensor(eigenvalues, dtype=torch.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError("expected a 1-D tensor of at least two eigenvalues.")
    return values[:-1] / values[1:]
