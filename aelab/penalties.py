"""Penalties added to the reconstruction loss: functions of the forward pass returning a scalar.

A penalty is a small callable object ``penalty(model, x, code) -> scalar tensor`` with a
``name``; ``x`` is the (possibly corrupted) input the encoder saw and ``code`` its output, of
shape (N, H). The returned value already includes the penalty's weight, so the training
objective is ``reconstruction + sum(penalty(...) for penalty in penalties)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from . import validation

_EPS = 1e-6  # keeps log() finite when a unit's mean activation reaches 0 or 1


def _check_code(code: torch.Tensor) -> None:
    if code.ndim != 2:
        raise ValueError(f"Penalties expect codes of shape (N, H), got {tuple(code.shape)}. "
                         "Flatten a convolutional code before applying a code penalty.")


def l1_code_penalty(code: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||h||_1, for codes of shape (N, H)."""
    _check_code(code)
    return code.abs().sum(dim=1).mean()


def kl_divergence(rho: float, rho_hat: torch.Tensor) -> torch.Tensor:
    """KL(rho || rho_hat) between Bernoulli distributions, elementwise over ``rho_hat``."""
    rho_hat = rho_hat.clamp(_EPS, 1 - _EPS)
    return rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))


def kl_sparsity_penalty(code: torch.Tensor, rho: float) -> torch.Tensor:
    """sum_j KL(rho || rho_hat_j), with rho_hat_j the mean activation of unit j over the batch.

    ``code`` has shape (N, H) with values in [0, 1] (a sigmoid layer).
    """
    _check_code(code)
    _check_rho(rho)
    return kl_divergence(rho, code.mean(dim=0)).sum()


def kl_sparsity_gradient(rho_hat: torch.Tensor, rho: float, beta: float = 1.0) -> torch.Tensor:
    """d/d rho_hat of beta * KL(rho || rho_hat): beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))."""
    return beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))


def sigmoid_layer_linear(encoder: nn.Module) -> nn.Linear:
    """The one ``nn.Linear`` of an encoder ``[Flatten,] Linear, Sigmoid``; a clear error otherwise."""
    layers = [m for m in encoder.modules() if not isinstance(m, (nn.Sequential, nn.Flatten))]
    if len(layers) != 2 or not isinstance(layers[0], nn.Linear) or not isinstance(layers[1], nn.Sigmoid):
        raise ValueError(
            "The closed-form contractive penalty needs a one-layer sigmoid encoder "
            "(Flatten, Linear, Sigmoid); this encoder has "
            f"{[type(m).__name__ for m in layers]}. Build it with mlp_encoder(shape, code=H, activation='sigmoid').")
    return layers[0]


def contractive_penalty(code: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||J_h(x)||_F^2 for a sigmoid layer h = sigmoid(W x + b).

    Closed form: sum_j (h_j (1 - h_j))^2 sum_i W_ji^2. ``code`` is h, shape (N, H);
    ``weight`` is W, shape (H, D).
    """
    _check_code(code)
    if weight.ndim != 2 or weight.shape[0] != code.shape[1]:
        raise ValueError(f"weight must have shape (H, D) with H={code.shape[1]}, got {tuple(weight.shape)}.")
    return ((code * (1 - code)) ** 2 @ weight.pow(2).sum(dim=1)).mean()




def _check_rho(rho: float) -> None:
    validation.probability("rho", rho, "a target mean activation")


@dataclass(frozen=True)
class L1Code:
    """weight * mean_n ||h(x_n)||_1."""

    weight: float
    name: str = "l1_code"

    def __post_init__(self):
        validation.non_negative("L1Code.weight", self.weight)

    def __call__(self, model, x, code):
        return self.weight * l1_code_penalty(code)


@dataclass(frozen=True)
class KLSparsity:
    """beta * sum_j KL(rho || rho_hat_j), rho_hat estimated on each mini-batch."""

    rho: float
    beta: float
    name: str = "kl_sparsity"

    def __post_init__(self):
        _check_rho(self.rho)
        validation.non_negative("KLSparsity.beta", self.beta)

    def __call__(self, model, x, code):
        return self.beta * kl_sparsity_penalty(code, self.rho)


@dataclass(frozen=True)
class Contractive:
    """weight * mean_n ||J_h(x_n)||_F^2, in closed form for a one-layer sigmoid encoder."""

    weight: float
    name: str = "contractive"

    def __post_init__(self):
        validation.non_negative("Contractive.weight", self.weight)

    def __call__(self, model, x, code):
        return self.weight * contractive_penalty(code, sigmoid_layer_linear(model.encoder).weight)
