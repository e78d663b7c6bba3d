"""Activation maximization (Erhan et al., 2009): the input of fixed norm that a unit likes best.

For a unit ``h`` (any output of any function of the input), solve

    x* = argmax_x h(x)   subject to   ||x|| = rho

by projected gradient ascent: ``x <- P(x + lr * grad h(x))`` with ``P(v) = rho * v / ||v||``, the
nearest point of the sphere. :func:`maximize_activation` runs it from several random starts at
once (each start is one row of a batch) and returns the optima with their activation traces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import validation


@dataclass
class Maximization:
    """What :func:`maximize_activation` returns.

    images: (n_starts, *input_shape), the last iterate of each start; each has norm ``norm``.
    activations: (n_starts,), the unit's value at ``images``.
    trace: (steps + 1, n_starts), the unit's value at every iterate, the (projected) start first.
    unit, norm, lr: the settings of the run.
    """

    images: torch.Tensor
    activations: torch.Tensor
    trace: torch.Tensor
    unit: int
    norm: float
    lr: float

    @property
    def best(self) -> torch.Tensor:
        """The optimum of the start that reached the highest activation, shape input_shape."""
        return self.images[int(self.activations.argmax())]

    def agreement(self) -> float:
        """Mean pairwise cosine similarity of the starts' optima (1: all starts found the same x*)."""
        return mean_pairwise_cosine(self.images)


def mean_pairwise_cosine(x: torch.Tensor) -> float:
    """Mean of cos(x_i, x_j) over the pairs i < j of the rows of ``x``, shape (n, ...) with n >= 2.

    1 when all rows point the same way, about 0 for random directions in many dimensions.
    The diagonal (cos(x_i, x_i) = 1) is left out.
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or len(x) < 2:
        raise ValueError(f"mean_pairwise_cosine needs a tensor of shape (n, ...) with n >= 2, "
                         f"got {tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}.")
    flat = x.detach().flatten(1).double()
    norms = flat.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError("mean_pairwise_cosine: a row is all zeros, its direction is undefined.")
    unit = flat / norms
    gram = unit @ unit.T
    n = len(unit)
    return float((gram.sum() - gram.diagonal().sum()) / (n * (n - 1)))


def project_to_sphere(x: torch.Tensor, norm: float) -> torch.Tensor:
    """``norm * x / ||x||`` for each sample of ``x`` (N, ...): the nearest point of the sphere."""
    flat_norm = x.flatten(1).norm(dim=1).clamp_min(1e-12)
    return x * (norm / flat_norm).view(-1, *([1] * (x.ndim - 1)))


def _module_of(fn) -> nn.Module | None:
    if isinstance(fn, nn.Module):
        return fn
    owner = getattr(fn, "__self__", None)
    return owner if isinstance(owner, nn.Module) else None


def _positive(name: str, value, integer: bool):
    return validation.positive_int(name, value) if integer else validation.positive(name, value)


def maximize_activation(fn: Callable[[torch.Tensor], torch.Tensor], unit: int, input_shape, *, norm: float,
                        steps: int = 200, lr: float | str = 1.0, n_starts: int = 8, seed: int = 0,
                        init: torch.Tensor | None = None) -> Maximization:
    """Projected gradient ascent on unit ``unit`` of ``fn`` over the sphere ||x|| = ``norm``.

    Args:
        fn: a model, a slice of one (``nn.Sequential(*encoder[:3])``), a bound method
            (``model.encode``) or any differentiable function mapping inputs (N, *input_shape)
            to outputs (N, H) (outputs with more dimensions are flattened to (N, H)).
            To maximize a sigmoid unit, pass the layer's pre-activation: sigmoid is increasing, so
            the argmax is the same, and its gradient does not vanish where the sigmoid saturates.
        unit: index of the output column to maximize, 0 <= unit < H.
        input_shape: shape of one input, e.g. ``data.image_shape`` = (1, 28, 28), or (784,).
        norm: the radius rho of the constraint sphere (e.g. the typical norm of a data image).
        steps: number of ascent steps; lr: the step size eps of ``x <- P(x + eps grad)``, or
            ``"auto"``: eps = norm / (median gradient norm at the starts), so the first step moves
            each start by about the sphere's radius. A fixed eps suits one layer and not another:
            the gradient of a deep unit is a product of small sigmoid slopes, and with eps = 1 its
            starts barely move in hundreds of steps. A point whose gradient points outward (a
            positive multiple of x) is left in place by every eps; one whose gradient points inward
            only by an eps small enough. A larger eps takes fewer steps, and can jump between basins.
        n_starts: number of random starts, drawn from a standard normal and projected onto the
            sphere; seed: seeds those starts, so a run is reproducible.
        init: optional starting points (n_starts, *input_shape) instead of random ones.

    Returns:
        a :class:`Maximization` with the optima (n_starts, *input_shape), their activations
        (n_starts,) and the activation trace (steps + 1, n_starts), all on the CPU.

    The module (if ``fn`` is one or a method of one) runs in eval mode, restored afterwards; its
    parameters receive no gradients. Computation happens on the device and in the dtype of the
    module's parameters (float32 on the CPU for a plain function).
    """
    if not callable(fn):
        raise TypeError(f"fn must be a model or a function of the input, got {type(fn).__name__}.")
    shape = (input_shape,) if isinstance(input_shape, (int, np.integer)) else tuple(input_shape)
    if not shape or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in shape):
        raise ValueError(f"input_shape must be positive integers, e.g. (1, 28, 28), got {input_shape!r}.")
    shape = tuple(int(s) for s in shape)
    norm = _positive("norm", norm, integer=False)
    steps = _positive("steps", steps, integer=True)
    auto_lr = isinstance(lr, str)
    if auto_lr and lr != "auto":
        raise ValueError(f"lr must be a positive number or 'auto', got {lr!r}.")
    lr = lr if auto_lr else _positive("lr", lr, integer=False)
    n_starts = _positive("n_starts", n_starts, integer=True)
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)):
        raise TypeError(f"unit must be an integer index, got {unit!r}.")
    unit = int(unit)

    module = _module_of(fn)
    params = list(module.parameters()) if module is not None else []
    device = params[0].device if params else torch.device("cpu")
    dtype = params[0].dtype if params and params[0].is_floating_point() else torch.float32

    if init is not None:
        if not isinstance(init, torch.Tensor) or tuple(init.shape) != (n_starts, *shape):
            raise ValueError(f"init must be a tensor of shape {(n_starts, *shape)}, got "
                             f"{tuple(init.shape) if isinstance(init, torch.Tensor) else type(init).__name__}.")
        start = init.detach().to("cpu", torch.float64)
        if bool((start.flatten(1).norm(dim=1) == 0).any()):
            raise ValueError("init has an all-zero start: its direction, and so its projection, is undefined.")
    else:
        start = torch.randn((n_starts, *shape), generator=torch.Generator().manual_seed(int(seed)),
                            dtype=torch.float64)
    x = project_to_sphere(start, norm).to(device, dtype)

    def unit_value(x: torch.Tensor) -> torch.Tensor:
        out = fn(x)
        if not isinstance(out, torch.Tensor) or out.ndim < 1 or out.shape[0] != len(x):
            raise ValueError(f"fn must return a tensor of shape (N, H) for N inputs; for {len(x)} inputs it "
                             f"returned {tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}.")
        out = out.reshape(len(x), -1)
        if not 0 <= unit < out.shape[1]:
            raise IndexError(f"unit {unit} does not exist: this layer has {out.shape[1]} units (0 to "
                             f"{out.shape[1] - 1}).")
        return out[:, unit]

    was_training = module.training if module is not None else None
    if module is not None:
        module.eval()
    trace = []
    try:
        with torch.enable_grad():
            for _ in range(steps):
                x.requires_grad_(True)
                value = unit_value(x)
                (grad,) = torch.autograd.grad(value.sum(), x)  # rows are independent: d(sum)/dx_n = dh(x_n)/dx_n
                trace.append(value.detach())
                if auto_lr:
                    grad_norm = float(grad.flatten(1).norm(dim=1).median())
                    if not grad_norm > 0:
                        raise ValueError(f"unit {unit} has a zero gradient at the starts: lr='auto' cannot scale "
                                         "its step; give lr a number.")
                    lr, auto_lr = norm / grad_norm, False
                with torch.no_grad():
                    x = project_to_sphere(x.detach() + lr * grad, norm)
                if not bool(torch.isfinite(x).all()):
                    raise FloatingPointError(f"the iterate became NaN or infinite after {len(trace)} steps: "
                                             f"lower lr (now {lr}).")
        with torch.no_grad():
            final = unit_value(x)
    finally:
        if module is not None:
            module.train(was_training)
    trace.append(final)
    return Maximization(images=x.detach().cpu(), activations=final.detach().cpu(),
                        trace=torch.stack(trace).cpu(), unit=unit, norm=norm, lr=lr)


def first_layer_optimum(weight: torch.Tensor, norm: float) -> torch.Tensor:
    """The closed-form maximizer of every unit of a first layer h_i = s(W_i . x + b_i), s increasing.

    ``weight`` has shape (H, D); returns (H, D) with row i equal to ``norm * W_i / ||W_i||``
    (Cauchy-Schwarz: W_i . x <= ||W_i|| ||x||, with equality iff x is along W_i). The bias and the
    (increasing) activation do not move the argmax.
    """
    if not isinstance(weight, torch.Tensor) or weight.ndim != 2:
        raise ValueError(f"weight must be a tensor of shape (H, D), got "
                         f"{tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__}.")
    norm = _positive("norm", norm, integer=False)
    row_norms = weight.norm(dim=1, keepdim=True)
    if bool((row_norms == 0).any()):
        raise ValueError("a unit has an all-zero weight row: every x on the sphere maximizes it, x* is undefined.")
    return norm * weight / row_norms
