"""One set of rules for the parameters aelab takes, and one message style: the parameter's name,
what it must be, and what it got. Numbers may be Python or NumPy scalars; a bool is never a number;
a yes/no value follows :func:`aelab.config.parse_bool` (True/False, or 1/0, yes/no, on/off, true/false).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .config import parse_bool


def is_number(value) -> bool:
    """A real number (Python or NumPy scalar), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def positive_int(name: str, value) -> int:
    """``value`` as an int >= 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def positive(name: str, value) -> float:
    """``value`` as a finite float > 0."""
    if not is_number(value) or not math.isfinite(float(value)) or not float(value) > 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def non_negative(name: str, value) -> float:
    """``value`` as a finite float >= 0."""
    if not is_number(value) or not math.isfinite(float(value)) or not float(value) >= 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


def fraction(name: str, value) -> float:
    """``value`` as a float in [0, 1): a share of pixels to corrupt (1 would leave nothing)."""
    if not is_number(value) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value!r}.")
    return float(value)


def probability(name: str, value, what: str = "a probability") -> float:
    """``value`` as a float strictly between 0 and 1 (a target rate such as a sparsity level)."""
    if not is_number(value) or not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} is {what} and must lie strictly between 0 and 1, got {value!r}.")
    return float(value)


def flag(name: str, value) -> bool:
    """``value`` as a bool, by the one yes/no rule (so ``"false"`` is False, never truthy)."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value not in (0, 1):
        raise ValueError(f"{name} must be a yes/no value (True or False), got {value!r}.")
    return parse_bool(value, name)
