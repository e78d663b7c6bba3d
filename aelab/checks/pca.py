"""Checks for the exercises of notebook 01 (PCA derivation)."""

from __future__ import annotations

import torch

from ..pca import PCA, covariance, fit_pca
from ._core import Exercise, register


def _cases():
    g = torch.Generator().manual_seed(0)
    mix = torch.randn(5, 5, generator=g, dtype=torch.float64)
    x1 = torch.randn(40, 5, generator=g, dtype=torch.float64) @ mix + 3.0  # non-zero mean on purpose
    x2 = torch.rand(30, 7, generator=g, dtype=torch.float64) @ torch.randn(7, 7, generator=g, dtype=torch.float64) + 1
    return [(x1,), (x2,)]


check_covariance = Exercise(
    "covariance", covariance, _cases, atol=1e-9, rtol=1e-7, passed="centred, D x D, 1/N on 2 test inputs",
    forbidden=(torch.cov,),
    accept={"divided by N-1": (
        lambda x: covariance(x) * len(x) / (len(x) - 1),
        "you divided by N-1 (the unbiased estimate). Accepted: the eigenvectors are the same and the eigenvalues "
        "differ by the factor N/(N-1). This course uses 1/N so that the eigenvalues are exactly the variances of "
        "the projections and the mean squared reconstruction error is exactly the sum of the discarded eigenvalues")},
    mistakes={
        "transposed covariance": (
            lambda x: (x - x.mean(0)) @ (x - x.mean(0)).T / len(x),
            "your matrix is N x N: you computed X X^T, the similarity between samples. The covariance compares "
            "features: X_c^T X_c / N, shape D x D."),
        "no centering": (
            lambda x: x.T @ x / len(x),
            "you did not centre the data. X^T X / N is the second moment: it mixes the mean into the matrix, and "
            "its top eigenvector points towards the mean image instead of the direction of largest variance. "
            "Subtract X.mean(dim=0) first."),
        "no centering, N-1": (lambda x: x.T @ x / (len(x) - 1),
                              "you did not centre the data: subtract X.mean(dim=0) before X^T X."),
        "missing 1/N": (lambda x: covariance(x) * len(x),
                        "you forgot to divide by N: the sum of outer products is N times the covariance."),
    },
    hint="X_c = X - X.mean(dim=0); C = X_c.T @ X_c / N.")


def _eigh(x, centre=True, sort=True, rows=False, add_mean=True):
    """A wrong variant of the reconstruction, for the named mistakes."""
    mean = x.mean(dim=0) if centre else torch.zeros_like(x[0])
    _, vectors = torch.linalg.eigh(covariance(x) if centre else x.T @ x / len(x))
    vectors = vectors.flip(1) if sort else vectors
    return lambda k: (x - mean) @ (vectors[:k].T if rows else vectors[:, :k]) @ \
        (vectors[:k].T if rows else vectors[:, :k]).T + (mean if add_mean else 0)


check_pca_reconstruct = Exercise(
    "pca_reconstruct", lambda x, k: fit_pca(x, k).reconstruct(x),
    lambda: [(x, k) for (x,) in _cases() for k in (1, 3)], forbidden=(fit_pca, PCA.reconstruct),
    passed="matches PCA's reconstruction for k = 1 and 3 on 2 test inputs",
    mistakes={
        "no centering": (lambda x, k: _eigh(x, centre=False)(k),
                         "you projected the raw data (no mean subtracted). PCA's directions are those of the "
                         "centred data: subtract the mean, project, reconstruct, and add the mean back."),
        "mean not added back": (lambda x, k: _eigh(x, add_mean=False)(k),
                                "you centred and projected, but the reconstruction must add the mean back: "
                                "x_hat = mean + U U^T (x - mean)."),
        "unsorted eigenvectors": (lambda x, k: _eigh(x, sort=False)(k),
                                  "you kept the k eigenvectors with the SMALLEST eigenvalues. torch.linalg.eigh "
                                  "returns eigenvalues in ascending order: sort descending (e.g. .flip) and keep "
                                  "the first k columns."),
        "rows instead of columns": (lambda x, k: _eigh(x, rows=True)(k),
                                    "you took rows of the eigenvector matrix. The eigenvectors are its COLUMNS: "
                                    "U = vectors[:, :k], not vectors[:k]."),
    },
    hint="centre, eigh of the covariance, top-k columns, project and add the mean back.")

def _duplicated(eigenvalues):
    """Eigenvalues of the covariance of [x, x] from those of x's: 2 lambda_i, then D zeros (descending)."""
    return torch.cat([2 * eigenvalues, torch.zeros_like(eigenvalues)])


def _spectra():
    g = torch.Generator().manual_seed(1)
    cases = []
    for d in (3, 6):
        values = torch.rand(d, generator=g, dtype=torch.float64).sort(descending=True).values + 0.1
        cases.append((values,))
    return cases


check_duplicated_eigenvalues = Exercise(
    "duplicated_eigenvalues", _duplicated, _spectra, atol=1e-12, rtol=1e-9,
    passed="2 lambda_i and D zeros, descending, on 2 test spectra",
    mistakes={
        "each eigenvalue twice": (
            lambda v: torch.cat([v, v]).sort(descending=True).values,
            "you returned every eigenvalue twice, as if the two copies were independent pixels. They are not: "
            "the copy is perfectly correlated with the original. Write the covariance of [x, x] as a 2 x 2 block "
            "matrix of C's and try the vectors [u, u] and [u, -u] for an eigenvector u of C."),
        "not doubled": (
            lambda v: torch.cat([v, torch.zeros_like(v)]),
            "the zeros are right, but not the other D: project [x, x] onto the unit vector along [u, u] and "
            "compute the variance of that number."),
        "factor 4": (
            lambda v: torch.cat([4 * v, torch.zeros_like(v)]),
            "the factor is too large: an eigenvalue is the variance along a direction of length 1. Is [u, u] of "
            "length 1?"),
        "no zeros": (
            lambda v: 2 * v,
            "you returned D eigenvalues; the covariance of [x, x] is 2D x 2D, so it has 2D. Which directions "
            "built from u did you not try?"),
    },
    hint="the covariance of [x, x] is [[C, C], [C, C]]; try [u, u] and [u, -u].")


register(globals())
