"""Corruptions of the input for denoising autoencoders: functions from x to x_tilde.

Each corruption is a small callable object, so that its settings appear in the model's
repr (and so in the checkpoint cache key). They draw from torch's global random state,
which ``aelab.seed_everything`` sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def _check_fraction(name: str, value: float) -> float:
    if not isinstance(value, (int, float)) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value!r}.")
    return float(value)


def masking_noise(x: torch.Tensor, fraction: float) -> torch.Tensor:
    """Set a random ``fraction`` of the entries of ``x`` to 0 (Vincent et al., 2008).

    Each entry is dropped independently with probability ``fraction``; the others are kept
    unchanged (not rescaled: this is a corruption, not dropout). Shape of ``x`` is kept.
    """
    fraction = _check_fraction("fraction", fraction)
    keep = torch.rand_like(x) >= fraction
    return x * keep


def gaussian_noise(x: torch.Tensor, std: float) -> torch.Tensor:
    """Add isotropic Gaussian noise N(0, std^2) to every entry of ``x``."""
    if not isinstance(std, (int, float)) or std < 0:
        raise ValueError(f"std must be a non-negative number, got {std!r}.")
    return x + std * torch.randn_like(x)


def salt_and_pepper_noise(x: torch.Tensor, fraction: float) -> torch.Tensor:
    """Set a random ``fraction`` of the entries to 0 or 1, each with probability one half."""
    fraction = _check_fraction("fraction", fraction)
    hit = torch.rand_like(x) < fraction
    salt = (torch.rand_like(x) < 0.5).to(x.dtype)
    return torch.where(hit, salt, x)


@dataclass(frozen=True)
class MaskingNoise:
    """Corruption: zero a random ``fraction`` of the inputs."""

    fraction: float

    def __post_init__(self):
        _check_fraction("MaskingNoise.fraction", self.fraction)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return masking_noise(x, self.fraction)


@dataclass(frozen=True)
class GaussianNoise:
    """Corruption: add N(0, std^2) noise to every input."""

    std: float

    def __post_init__(self):
        if not isinstance(self.std, (int, float)) or self.std < 0:
            raise ValueError(f"GaussianNoise.std must be a non-negative number, got {self.std!r}.")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_noise(x, self.std)


@dataclass(frozen=True)
class SaltAndPepper:
    """Corruption: set a random ``fraction`` of the inputs to 0 or 1."""

    fraction: float

    def __post_init__(self):
        _check_fraction("SaltAndPepper.fraction", self.fraction)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return salt_and_pepper_noise(x, self.fraction)
