"""The top-k activation of the k-sparse autoencoder (Makhzani and Frey, 2013)."""

from __future__ import annotations

import numbers

import torch
from torch import nn

from . import validation


def top_k(z: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` largest entries of each row of ``z`` (shape (N, H)), set the rest to 0.

    Returns a tensor of ``z``'s shape with at most ``k`` non-zeros per row (exactly ``k`` unless
    kept values are 0). "Largest" means largest value, not largest magnitude: with linear
    pre-activations a large negative entry is dropped. Raises ValueError unless ``z`` is 2-D and
    ``1 <= k <= H``.

    The gradient flows only through the kept entries. Among tied values the choice is
    ``torch.topk``'s (not specified); real-valued pre-activations are tied with probability 0.
    """
    if z.ndim != 2:
        raise ValueError(f"top_k expects codes of shape (N, H), got {tuple(z.shape)}.")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= z.shape[1]:
        raise ValueError(f"k must be an integer between 1 and the code size {z.shape[1]}, got {k!r}.")
    values, index = z.topk(int(k), dim=1)
    return torch.zeros_like(z).scatter(1, index, values)


class TopK(nn.Module):
    """Layer form of :func:`top_k`. ``k`` is an attribute so hooks can anneal it during training
    and an encoder can use ``alpha * k`` units when producing features."""

    def __init__(self, k: int):
        super().__init__()
        self.k = validation.positive_int("k", k)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return top_k(z, self.k)

    def extra_repr(self) -> str:
        return f"k={self.k}"


class AnnealK:
    """An epoch hook for :func:`aelab.fit` that lowers ``layer.k`` linearly from ``start`` to ``end``
    over the first ``epochs`` epochs, then keeps it at ``end`` (Makhzani and Frey anneal k so that
    no hidden unit dies early in training). ``describe()`` names its settings for the cache key."""

    def __init__(self, layer: TopK, start: int, end: int, epochs: int):
        if not (isinstance(start, int) and isinstance(end, int) and start >= end >= 1):
            raise ValueError(f"anneal_k needs integers start >= end >= 1, got start={start!r}, end={end!r}.")
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"anneal_k needs a positive number of epochs, got {epochs!r}.")
        self.layer, self.start, self.end, self.epochs = layer, start, end, epochs

    def __call__(self, epoch: int, model, optimizer) -> None:
        progress = min(1.0, epoch / self.epochs)
        self.layer.k = round(self.start + (self.end - self.start) * progress)

    def describe(self) -> str:
        # the layer is part of the model, whose repr the key holds; its k is set by this hook
        return f"anneal_k(start={self.start}, end={self.end}, epochs={self.epochs})"

    __repr__ = describe


def anneal_k(layer: TopK, start: int, end: int, epochs: int) -> AnnealK:
    """The :class:`AnnealK` hook: ``layer.k`` from ``start`` down to ``end`` over ``epochs`` epochs."""
    return AnnealK(layer, start, end, epochs)
