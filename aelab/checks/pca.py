"""Checks for the exercises of notebook 01 (PCA derivation)."""

from __future__ import annotations

import torch

from ._core import CheckResult, ExerciseFailed, _close, call_student, not_attempted, passed


def _cases():
    g = torch.Generator().manual_seed(0)
    mix = torch.randn(5, 5, generator=g, dtype=torch.float64)
    x1 = torch.randn(40, 5, generator=g, dtype=torch.float64) @ mix + 3.0  # non-zero mean on purpose
    x2 = torch.rand(30, 7, generator=g, dtype=torch.float64) @ torch.randn(7, 7, generator=g, dtype=torch.float64) + 1
    return [x1, x2]


def _cov(x, denom=None):
    xc = x - x.mean(dim=0)
    return xc.T @ xc / (len(x) if denom is None else denom)


def check_covariance(student) -> CheckResult:
    """Exercise 1: ``covariance(X)`` of data (N, D) -> (D, D) with the course's 1/N convention."""
    name = "covariance"
    for i, x in enumerate(_cases()):
        ok, got = call_student(name, student, [x])
        if not ok:
            return not_attempted(name)
        if not isinstance(got, torch.Tensor):
            raise ExerciseFailed(f"{name}: return a torch tensor, got {type(got).__name__}.")
        n, d = x.shape
        if got.shape == (n, n):
            raise ExerciseFailed(f"{name}: your matrix is {n} x {n} (N x N): you computed X X^T, the similarity "
                                 f"between samples. The covariance compares features: X_c^T X_c / N, shape D x D = "
                                 f"{d} x {d}. [recognized mistake: transposed covariance]")
        if got.shape != (d, d):
            raise ExerciseFailed(f"{name}: expected a {d} x {d} matrix (D x D), got shape {tuple(got.shape)}.")
        if _close(got, _cov(x), 1e-9, 1e-7):
            continue
        if _close(got, _cov(x, n - 1), 1e-9, 1e-7):
            return passed(name, "you divided by N-1 (the unbiased estimate). Accepted: the eigenvectors are the "
                                "same and the eigenvalues differ by the factor N/(N-1). This course uses 1/N so "
                                "that the eigenvalues are exactly the variances of the projections and the mean "
                                "squared reconstruction error is exactly the sum of the discarded eigenvalues")
        if _close(got, x.T @ x / n, 1e-9, 1e-7) or _close(got, x.T @ x / (n - 1), 1e-9, 1e-7):
            raise ExerciseFailed(f"{name}: you did not centre the data. X^T X / N is the second moment: it mixes "
                                 "the mean into the matrix, and its top eigenvector points towards the mean image "
                                 "instead of the direction of largest variance. Subtract X.mean(dim=0) first. "
                                 "[recognized mistake: no centering]")
        if _close(got, _cov(x, 1), 1e-9, 1e-7):
            raise ExerciseFailed(f"{name}: you forgot to divide by N: the sum of outer products is N times the "
                                 "covariance. [recognized mistake: missing 1/N]")
        diff = float((got.double() - _cov(x)).abs().max())
        raise ExerciseFailed(f"{name}: wrong values on test input {i + 1} (largest difference {diff:.3g}). "
                             "Hint: X_c = X - X.mean(dim=0); C = X_c.T @ X_c / N.")
    return passed(name, "centred, D x D, 1/N on 2 test inputs")


def _reconstruct(x, k, centre=True, sort=True, rows=False, add_mean=True):
    mean = x.mean(dim=0)
    values, vectors = torch.linalg.eigh(_cov(x) if centre else x.T @ x / len(x))
    if sort:
        vectors = vectors.flip(1)
    u = vectors[:k].T if rows else vectors[:, :k]
    xc = x - mean if centre else x
    out = xc @ u @ u.T
    return out + mean if (centre and add_mean) else out


def check_pca_reconstruct(student) -> CheckResult:
    """Exercise 2: ``pca_reconstruct(X, k)`` -> reconstructions (N, D) from the top-k components."""
    name = "pca_reconstruct"
    mistakes = {
        "no centering": (lambda x, k: _reconstruct(x, k, centre=False),
                         "you projected the raw data (no mean subtracted). PCA's directions are those of the "
                         "centred data: subtract the mean, project, reconstruct, and add the mean back."),
        "mean not added back": (lambda x, k: _reconstruct(x, k, add_mean=False),
                                "you centred and projected, but the reconstruction must add the mean back: "
                                "x_hat = mean + U U^T (x - mean)."),
        "unsorted eigenvectors": (lambda x, k: _reconstruct(x, k, sort=False),
                                  "you kept the k eigenvectors with the SMALLEST eigenvalues. torch.linalg.eigh "
                                  "returns eigenvalues in ascending order: sort descending (e.g. .flip) and keep "
                                  "the first k columns."),
        "rows instead of columns": (lambda x, k: _reconstruct(x, k, rows=True),
                                    "you took rows of the eigenvector matrix. The eigenvectors are its COLUMNS: "
                                    "U = vectors[:, :k], not vectors[:k]."),
    }
    for i, x in enumerate(_cases()):
        for k in (1, 3):
            ok, got = call_student(name, student, [x, k])
            if not ok:
                return not_attempted(name)
            expected = _reconstruct(x, k)
            if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
                shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
                raise ExerciseFailed(f"{name}: expected reconstructions of shape {tuple(expected.shape)} (N, D), "
                                     f"got {shape}.")
            if _close(got, expected, 1e-8, 1e-6):
                continue
            for label, (wrong, why) in mistakes.items():
                if _close(got, wrong(x, k), 1e-8, 1e-6):
                    raise ExerciseFailed(f"{name}: {why} [recognized mistake: {label}]")
            diff = float((got.double() - expected).abs().max())
            raise ExerciseFailed(f"{name}: wrong reconstruction on test input {i + 1} with k={k} (largest "
                                 f"difference {diff:.3g}). Hint: centre, eigh of the covariance, top-k columns, "
                                 "project and add the mean back.")
    return passed(name, "matches PCA's reconstruction for k = 1 and 3 on 2 test inputs")


from ._core import isolate_rng  # noqa: E402  (after the definitions it wraps)

isolate_rng(globals())
