"""Explicit randomness: seeds are arguments, never the state someone else left in the global RNG.

Builders take ``seed=`` and ``fit`` takes ``seed=`` (an integer or a ``torch.Generator``), as
scikit-learn's estimators take ``random_state``. ``seeded(s)`` builds under ``torch.manual_seed(s)``
and puts the global generator back afterwards, so what is built with ``seed=s`` has exactly the
weights that ``torch.manual_seed(s); build()`` gives, and nothing built later is affected.
"""

from __future__ import annotations

import contextlib
import numbers

import torch

_MOD = 2**64  # torch seeds are 64-bit; any integer is reduced to one, as torch does for [-2**63, 2**64)


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` as a torch seed in [0, 2**64): any integer works (negative and huge ones too)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"{name} must be an integer (any size) or a torch.Generator, got {seed!r}.")
    return int(seed) % _MOD


def resolve_seed(seed) -> int:
    """An integer seed for ``fit``: the integer itself, or one number drawn from a ``torch.Generator``."""
    if isinstance(seed, torch.Generator):
        return int(torch.randint(0, 2**62, (1,), generator=seed))
    return check_seed(seed)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's batch order and corruption noise, so a resumed run continues exactly."""
    return (seed * 100_003 + epoch) % _MOD


@contextlib.contextmanager
def seeded(seed):
    """Run the block under ``torch.manual_seed(seed)`` on the CPU generator, then restore it.

    ``seed=None`` leaves the global generator alone (PyTorch's usual, unseeded behaviour).
    """
    if seed is None:
        yield
        return
    seed = check_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        yield
