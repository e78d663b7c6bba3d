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
    forbidden=(torch.autograd.grad, torch.autograd.backward),
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
                                             "a gradient is N/2 times too large: that is the gradient of the "
                                             "transcript's loss 1/2 sum_n ||r_n||^2. This exercise's loss is the "
                                             "MEAN over the N samples, without the 1/2: divide by N, keep the 2."),
        "sign": (_scaled(lambda x: -1.0),
                 "a gradient has the wrong sign. With r = x_hat - x, dL/dx_hat = +2r/N; you used x - x_hat."),
    },
    hint="differentiate L with respect to the reconstruction X_hat = H W_dec^T first, then follow the chain rule "
         "through X_hat = H W_dec^T (for W_dec) and H = X W^T (for W); each gradient has its matrix's shape.")


def _angle_cases():
    g = torch.Generator().manual_seed(2)
    randn = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    return [(randn(8, 3) * torch.tensor([1.0, 5.0, 0.2], dtype=torch.float64), randn(8, 3)),
            (randn(6, 2) * 3, randn(6, 2))]


def _angles_unnormalized(a, b):
    return torch.rad2deg(torch.arccos(torch.linalg.svdvals(a.T @ b).clamp(-1, 1)))


check_principal_angles = Exercise(
    "principal_angles", principal_angles, _angle_cases, atol=1e-6,
    passed="the angles in degrees, smallest first, on 2 test inputs",
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

def _excess_cases():
    g = torch.Generator().manual_seed(3)
    out = []
    for k, eps in ((3, 0.01), (4, 0.05)):
        eigenvalues = torch.rand(k, generator=g, dtype=torch.float64).sort(descending=True).values * 5 + 0.5
        out.append((eigenvalues, torch.randn(k, k, generator=g, dtype=torch.float64), eps))
    return out


def tied_excess_leading_order(eigenvalues, E, eps):
    """Excess error per image over PCA of the tied AE W = Q(I + eps E)V_k^T, to second order in eps.

    With H = X_c V_k, H^T H / N = diag(eigenvalues) and M - I = A^T A - I = eps (E + E^T) + O(eps^2), so
    (1/N)||H (M - I)||_F^2 = eps^2 sum_ij lambda_i (E + E^T)_ij^2 + O(eps^3); Q drops out of A^T A."""
    S = E + E.T
    return float(eps**2 * (eigenvalues[:, None] * S.pow(2)).sum())


def _tied_excess_exact(eigenvalues, E, eps):
    M_minus_I = eps * (E + E.T) + eps**2 * E.T @ E
    return float((eigenvalues[:, None] * M_minus_I.pow(2)).sum())


def _weighted(transform, power=2, weights=lambda lam: lam[:, None]):
    return lambda lam, E, eps: float(eps**power * (weights(lam) * transform(E).pow(2)).sum())


check_predicted_tied_excess = Exercise(
    "predicted_tied_excess", tied_excess_leading_order, _excess_cases,
    passed="the leading-order excess on 2 test inputs", rtol=1e-9, atol=1e-12,
    accept={"exact, all orders": (
        _tied_excess_exact,
        "you computed the excess exactly, sum_ij lambda_i (M - I)_ij^2 with the eps^2 E^T E term kept. Accepted: "
        "it agrees with the leading order up to a relative O(eps).")},
    mistakes={
        "E instead of E + E^T": (
            _weighted(lambda E: E),
            "you kept only one of the two first-order terms of A^T A = (I + eps E)^T (I + eps E): "
            "M - I = eps (E + E^T) + O(eps^2), and E is not symmetric."),
        "2E instead of E + E^T": (
            _weighted(lambda E: 2 * E),
            "you wrote M - I as 2 eps E: that holds only for a symmetric E. Here it is eps (E + E^T)."),
        "first order in eps": (
            _weighted(lambda E: E + E.T, power=1),
            "your answer is first order in eps. The excess is a squared norm of eps (E + E^T): it is eps^2 times "
            "something, and halving eps divides it by 4 (section 1 measured this)."),
        "no eigenvalue weighting": (
            _weighted(lambda E: E + E.T, weights=lambda lam: torch.ones_like(lam)[:, None]),
            "you dropped the eigenvalues. The codes H = X_c V_k are not white: H^T H / N = diag(lambda_1..k), "
            "so row i of (M - I) is weighted by lambda_i."),
        "eigenvalues squared": (
            _weighted(lambda E: E + E.T, weights=lambda lam: lam[:, None] ** 2),
            "you weighted by lambda_i^2. H^T H / N = diag(lambda_i) (lambda_i = s_i^2 / N): the weight is "
            "lambda_i itself."),
        "diagonal only": (
            lambda lam, E, eps: float(eps**2 * (lam * torch.diagonal(E + E.T).pow(2)).sum()),
            "you kept only the diagonal of M - I. The squared Frobenius norm sums over all entries: "
            "sum over i AND j of lambda_i (E + E^T)_ij^2."),
    },
    hint="expand M - I = A^T A - I to first order in eps, and ask what H^T H / N is for H = X_c V_k.")

register(globals())
