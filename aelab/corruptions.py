"""Corruptions of the input for denoising autoencoders: functions from x to x_tilde.

Each corruption is a small callable object, so that its settings appear in the model's
repr (and so in the checkpoint cache key). Each takes ``generator=``: ``fit`` passes the
generator it owns, so training noise never depends on torch's global random state; without
one they draw from the global generator, which ``torch.manual_seed`` sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import validation


def _check_input(x) -> None:
    if not isinstance(x, torch.Tensor) or not torch.is_floating_point(x):
        raise TypeError(f"corruptions need a floating-point tensor, got "
                        f"{x.dtype if isinstance(x, torch.Tensor) else type(x).__name__}; use x.float() / 255.")


def _uniform(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    # torch.rand with a generator seeded s draws exactly what torch.rand_like draws after manual_seed(s)
    if generator is None:
        return torch.rand_like(x)
    return torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def _normal(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    if generator is None:
        return torch.randn_like(x)
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def masking_noise(x: torch.Tensor, fraction: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Set a random ``fraction`` of the entries of ``x`` to 0 (Vincent et al., 2008).

    Each entry is dropped independently with probability ``fraction``; the others are kept
    unchanged (not rescaled: this is a corruption, not dropout). Shape of ``x`` is kept.
    """
    _check_input(x)
    fraction = validation.fraction("fraction", fraction)
    keep = _uniform(x, generator) >= fraction
    return x * keep


def gaussian_noise(x: torch.Tensor, std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add isotropic Gaussian noise N(0, std^2) to every entry of ``x`` (any shape; not clipped)."""
    _check_input(x)
    std = validation.non_negative("std", std)
    return x + std * _normal(x, generator)


def salt_and_pepper_noise(x: torch.Tensor, fraction: float,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """Set a random ``fraction`` of the entries to 0 or 1, each with probability one half."""
    _check_input(x)
    fraction = validation.fraction("fraction", fraction)
    hit = _uniform(x, generator) < fraction
    salt = (_uniform(x, generator) < 0.5).to(x.dtype)
    return torch.where(hit, salt, x)


@dataclass(frozen=True)
class MaskingNoise:
    """Corruption: zero a random ``fraction`` of the inputs."""

    fraction: float

    def __post_init__(self):
        validation.fraction("MaskingNoise.fraction", self.fraction)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return masking_noise(x, self.fraction, generator)


@dataclass(frozen=True)
class GaussianNoise:
    """Corruption: add N(0, std^2) noise to every input."""

    std: float

    def __post_init__(self):
        validation.non_negative("GaussianNoise.std", self.std)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return gaussian_noise(x, self.std, generator)


@dataclass(frozen=True)
class SaltAndPepper:
    """Corruption: set a random ``fraction`` of the inputs to 0 or 1."""

    fraction: float

    def __post_init__(self):
        validation.fraction("SaltAndPepper.fraction", self.fraction)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return salt_and_pepper_noise(x, self.fraction, generator)
