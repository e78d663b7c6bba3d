"""Checks for the exercises of notebook 02 (the linear autoencoder learns PCA's subspace)."""

from __future__ import annotations

import torch

from ..pca import principal_angles
from ._core import Exercise, register


def _grad_cases():
    g = torch.Generator().manual_seed(1)
    out = []
    for n, d, k in ((20, 6, 2), (15, 5, 3)):
        x = torch.randn(n, d, generator=g, dtype=torch.float64)
        out.append((x - x.mean(0), torch.randn(k, d, generator=g, dtype=torch.float64),
                    torch.randn(d, k, generator=g, dtype=torch.float64)))
    return out


def autograd_gradients(x, w, w_dec):
    """The definition: gradients of L = 1/N sum_n ||x_n - W' W x_n||^2 by autograd, float64 on the CPU."""
    w, w_dec = w.detach().clone().requires_grad_(True), w_dec.detach().clone().requires_grad_(True)
    loss = (x - x @ w.T @ w_dec.T).pow(2).sum(1).mean()
    return torch.autograd.grad(loss, (w, w_dec))


def _scaled(factor):
    return lambda x, w, wd: tuple(factor(x) * g for g in autograd_gradients(x, w, wd))


check_linear_ae_gradients = Exercise(
    "linear_ae_gradients", autograd_gradients, _grad_cases,
    passed="both gradients match autograd (float64, CPU) on 2 test inputs",
    mistakes={
        "results in the wrong order": (
            lambda x, w, wd: autograd_gradients(x, w, wd)[::-1],
            "you return (dL/dW_dec, dL/dW): return them in the order asked, (dL/dW, dL/dW_dec)."),
        "transposed gradient": (
            lambda x, w, wd: tuple(g.T for g in autograd_gradients(x, w, wd)),
            "a gradient has the shape of the transposed matrix: the gradient with respect to a matrix has that "
            "matrix's shape, dL/dW (k, D) and dL/dW_dec (D, k)."),
        "missing factor 2": (_scaled(lambda x: 0.5),
                             "a gradient is half the true one. The derivative of ||r||^2 is 2 r: keep the factor 2."),
        "sum instead of mean": (_scaled(len),
                                "a gradient is N times too large: the loss is the MEAN over the N samples, so "
                                "divide by N."),
        "sum instead of mean, no factor 2": (_scaled(lambda x: len(x) / 2),
                                             "a gradient is N/2 times too large: the loss is the MEAN over the N "
                                             "samples (divide by N) and the derivative of ||r||^2 is 2 r."),
        "sign": (_scaled(lambda x: -1.0),
                 "a gradient has the wrong sign. With r = x_hat - x, dL/dx_hat = +2r/N; you used x - x_hat."),
    },
    hint="with H = X W^T and R = H W_dec^T - X, dL/dW_dec = 2/N R^T H and dL/dW = 2/N W_dec^T R^T X.")


def _angle_cases():
    g = torch.Generator().manual_seed(2)
    randn = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    return [(randn(8, 3) * torch.tensor([1.0, 5.0, 0.2], dtype=torch.float64), randn(8, 3)),
            (randn(6, 2) * 3, randn(6, 2))]


def _angles_unnormalized(a, b):
    return torch.rad2deg(torch.arccos(torch.linalg.svdvals(a.T @ b).clamp(-1, 1)))


check_principal_angles = Exercise(
    "principal_angles", principal_angles, _angle_cases, atol=1e-6, passed="the angles in degrees, smallest "
    "first, on 2 test inputs",
    mistakes={
        "radians": (lambda a, b: torch.deg2rad(principal_angles(a, b)),
                    "these are radians; return degrees (torch.rad2deg)."),
        "largest first": (lambda a, b: principal_angles(a, b).flip(0),
                          "the angles are right but in the wrong order: return the smallest angle first (the "
                          "largest singular value, the largest cosine, comes first)."),
        "no orthonormalization": (
            _angles_unnormalized,
            "the singular values of A^T B are cosines only when A and B have orthonormal columns. "
            "Orthonormalize first (torch.linalg.qr)."),
        "no orthonormalization, largest first": (
            lambda a, b: _angles_unnormalized(a, b).flip(0),
            "the singular values of A^T B are cosines only when A and B have orthonormal columns. "
            "Orthonormalize first (torch.linalg.qr), and return the smallest angle first."),
    },
    hint="Q_A, Q_B from QR; cosines = singular values of Q_A^T Q_B; arccos; degrees.")

register(globals())
