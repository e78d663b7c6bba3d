"""Jacobians of an encoder by automatic differentiation, and what the contractive autoencoder
reads from them (Rifai et al., 2011).

For an encoder h: R^D -> R^H (inputs of any shape (N, ...), flattened to D values; codes of
shape (N, H)) the Jacobian at x is the H x D matrix J_h(x)[j, i] = d h_j / d x_i: one row per
code unit, one column per pixel. It is computed with ``torch.func`` (``vmap`` over the batch of
``jacrev``), so it works for any differentiable encoder, not only the one-layer sigmoid encoder
whose Frobenius norm :func:`aelab.contractive_penalty` computes in closed form.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch.func import jacrev, jvp, vmap

from . import validation


def _check_inputs(x, batch_size: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a tensor of inputs of shape (N, ...), got {type(x).__name__}.")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch of shape (N, ...) with N >= 1, got {tuple(x.shape)}.")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}.")
    validation.positive_int("batch_size", batch_size)


def _single(encoder: Callable, shape) -> Callable:
    """h for one flat input of shape (D,), returning the code of shape (H,)."""

    def h(x_flat: torch.Tensor) -> torch.Tensor:
        code = encoder(x_flat.reshape(1, *shape))
        if code.ndim != 2 or code.shape[0] != 1:
            raise ValueError(f"the encoder must return codes of shape (N, H), got {tuple(code.shape)} for N=1.")
        return code[0]

    return h


def encoder_jacobian(encoder: Callable, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Jacobians of ``encoder`` at each input, shape (N, H, D), on the device of ``x``.

    Args:
        encoder: a module or function mapping inputs (N, ...) to codes (N, H), such as
            ``model.encoder`` or ``model.encode``; it is differentiated as it is (no eval()/train()
            switch is made here: call it on a model without dropout-like layers, or in eval mode).
        x: inputs of shape (N, ...) (e.g. (N, 1, 28, 28)); each is flattened to D values.
        batch_size: inputs per ``vmap`` call; memory grows as batch_size * H * D.

    The result is differentiable with respect to the encoder's parameters (``torch.func``
    composes with autograd), so it can also serve as a penalty in training.
    """
    _check_inputs(x, batch_size)
    h = _single(encoder, x.shape[1:])
    jac = vmap(jacrev(h))
    flat = x.reshape(len(x), -1)
    return torch.cat([jac(flat[i:i + batch_size]) for i in range(0, len(flat), batch_size)])


def directional_derivative(encoder: Callable, x: torch.Tensor, u: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """J_h(x_n) u_n for each input and its direction, shape (N, H), on the device of ``x``.

    The limit as r -> 0 of (h(x + r u) - h(x)) / r, exact: forward-mode automatic differentiation
    (``torch.func.jvp``), one pass with dual numbers per batch and no H x D Jacobian formed.

    Args:
        encoder: as for :func:`encoder_jacobian`.
        x: inputs of shape (N, ...); u: one direction per input, of the same shape.
        batch_size: inputs per pass.
    """
    _check_inputs(x, batch_size)
    if not isinstance(u, torch.Tensor) or u.shape != x.shape:
        raise ValueError(f"u must be a tensor of directions of the inputs' shape {tuple(x.shape)}, got "
                         f"{tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__}.")
    with warnings.catch_warnings():
        # torch's forward-mode transform scripts a helper of its own on first use and warns that
        # torch.jit.script is deprecated: torch's internals, nothing a caller can change
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=FutureWarning)
        out = [jvp(encoder, (x[i:i + batch_size],), (u[i:i + batch_size].to(x),))[1]
               for i in range(0, len(x), batch_size)]
    codes = torch.cat(out)
    if codes.ndim != 2:
        raise ValueError(f"the encoder must return codes of shape (N, H), got {tuple(codes.shape)}.")
    return codes


def jacobian_frobenius_sq(encoder: Callable, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """||J_h(x_n)||_F^2 for each input, shape (N,): the contractive penalty of each example,
    by autograd (any encoder). Its mean over the batch is the CAE's regularizer."""
    return encoder_jacobian(encoder, x, batch_size).pow(2).sum(dim=(1, 2))


def jacobian_singular_values(encoder: Callable, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Singular values of J_h(x_n) for each input, in decreasing order, shape (N, min(H, D)).

    Their squares sum to ||J_h(x_n)||_F^2. A contractive encoder has a few large ones (the
    directions along the data manifold it stays sensitive to) and many near zero.
    """
    jac = encoder_jacobian(encoder, x, batch_size)
    # eigenvalues of the small Gram matrix (min(H, D) square) instead of an SVD of the wide (H, D)
    # matrix: the same numbers, many times faster on a CPU; float64 keeps the small ones accurate
    j64 = jac.double()
    gram = j64 @ j64.transpose(1, 2) if jac.shape[1] <= jac.shape[2] else j64.transpose(1, 2) @ j64
    return torch.linalg.eigvalsh(gram).flip(-1).clamp_min(0).sqrt().to(jac.dtype)


def jacobian_tangents(encoder: Callable, x: torch.Tensor, k: int = 4,
                      batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` leading right singular vectors of J_h(x_n): the input directions the code is most
    sensitive to (for a CAE, the tangent directions of the data manifold at x_n).

    Returns (singular values of shape (N, k), directions of shape (N, k, *x.shape[1:])), each
    direction a unit vector in input space, so it can be drawn as an image. The sign of a
    singular vector is arbitrary; here it is fixed so that its largest-magnitude pixel is positive.
    """
    validation.positive_int("k", k)
    jac = encoder_jacobian(encoder, x, batch_size)
    if k > min(jac.shape[1:]):
        raise ValueError(f"k={k} is more than the rank bound min(H, D) = {min(jac.shape[1:])}.")
    _, s, vh = torch.linalg.svd(jac, full_matrices=False)
    v = vh[:, :k]  # (N, k, D)
    peak = v.gather(2, v.abs().argmax(dim=2, keepdim=True))
    v = v * torch.sign(peak)
    return s[:, :k], v.reshape(len(x), k, *x.shape[1:])


def stochastic_contraction(encoder: Callable, x: torch.Tensor, sigma: float, noise: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo estimate of E ||h(x) - h(x + eps)||^2, eps ~ N(0, sigma^2 I), per input, shape (N,).

    Args:
        encoder: maps inputs (N, ...) to codes (N, H).
        x: inputs of shape (N, ...).
        sigma: the noise standard deviation (> 0).
        noise: standard normal draws z of shape (S, N, ...): eps = sigma * z, S samples per input.
            Passing the draws in makes the estimate reproducible and lets several sigmas share them.

    For small sigma it approaches sigma^2 ||J_h(x)||_F^2 (first-order Taylor expansion).
    """
    if not isinstance(sigma, (int, float)) or isinstance(sigma, bool) or not sigma > 0:
        raise ValueError(f"sigma must be a positive number, got {sigma!r}.")
    _check_inputs(x, 1)
    if not isinstance(noise, torch.Tensor) or noise.ndim != x.ndim + 1 or noise.shape[1:] != x.shape:
        shape = tuple(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__
        raise ValueError(f"noise must have shape (S, *x.shape) = (S, {', '.join(map(str, x.shape))}), got {shape}.")
    h0 = encoder(x)
    total = torch.zeros(len(x), dtype=h0.dtype, device=h0.device)
    for z in noise:  # S encoder calls on the whole batch
        total = total + (encoder(x + sigma * z) - h0).pow(2).sum(dim=1)
    return total / len(noise)
