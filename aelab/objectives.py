"""What the decoder's output means and how it is compared with the input: the output/loss choice.

An objective is a small object with three methods, so that the training loop, the input checks
and the cache key never branch on strings:

* ``activate(logits)``: the reconstruction from the decoder's pre-activations;
* ``__call__(logits, x)``: the reconstruction loss, summed over the pixels of an image and
  averaged over the batch (the lecture's ||x - x_hat||^2 per image);
* ``check_targets(x, label)``: raise a ValueError naming the remedy when ``x`` cannot be a target.

Its ``repr`` names its settings; that is how the cache key identifies it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class BernoulliCrossEntropy:
    """Sigmoid outputs in (0, 1) and binary cross-entropy, computed from the logits (stable)."""

    output: str = "sigmoid"
    loss_name: str = "bce"

    def activate(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)

    def __call__(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
        return per_pixel.flatten(1).sum(dim=1).mean()

    def check_targets(self, x: torch.Tensor, label: str) -> None:
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"{label} has values in [{x.min():.3g}, {x.max():.3g}] but binary cross-entropy needs "
                             "targets in [0, 1]. Scale the images to [0, 1] or use loss='mse'.")


@dataclass(frozen=True)
class SquaredError:
    """Squared error between ``x`` and the outputs, which are linear or pass through a sigmoid."""

    output: str = "linear"
    loss_name: str = "mse"

    def __post_init__(self):
        if self.output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear', got {self.output!r}.")

    def activate(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.output == "sigmoid" else logits

    def __call__(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return ((self.activate(logits) - x) ** 2).flatten(1).sum(dim=1).mean()

    def check_targets(self, x: torch.Tensor, label: str) -> None:
        return None


def objective(output: str = "sigmoid", loss: str | None = None):
    """The objective for the ``output=``/``loss=`` strings of :class:`~aelab.models.Autoencoder`."""
    if output not in ("sigmoid", "linear"):
        raise ValueError(f"output must be 'sigmoid' or 'linear', got {output!r}.")
    loss = loss or ("bce" if output == "sigmoid" else "mse")
    if loss not in ("bce", "mse"):
        raise ValueError(f"loss must be 'bce' or 'mse', got {loss!r}.")
    if loss == "bce":
        if output != "sigmoid":
            raise ValueError("Binary cross-entropy needs outputs in (0, 1): use output='sigmoid' with loss='bce'.")
        return BernoulliCrossEntropy()
    return SquaredError(output)
