"""The machinery every exercise check shares: call, compare, recognize known mistakes, report."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch


class ExerciseFailed(AssertionError):
    """The student's function gives a wrong answer; the message says what is wrong."""


@dataclass
class CheckResult:
    """Outcome of a check: status is "passed" or "not attempted" (failures raise)."""

    name: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def _as_tensor(value) -> torch.Tensor:
    return value if isinstance(value, torch.Tensor) else torch.as_tensor(value, dtype=torch.float64)


def _close(a, b, atol: float, rtol: float) -> bool:
    a, b = _as_tensor(a), _as_tensor(b)
    if a.shape != b.shape:
        return False
    return bool(torch.allclose(a.detach().cpu().double(), b.detach().cpu().double(), atol=atol, rtol=rtol))


def grading() -> bool:
    """True while nbgrader runs the notebook (autograde, validate): it sets NBGRADER_EXECUTION in the kernel."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def not_attempted(name: str) -> CheckResult:
    message = f"⏭  {name}: not attempted yet (the function still raises NotImplementedError)."
    if grading():  # nbgrader scores a check cell by whether it errors: an untouched exercise earns 0
        raise ExerciseFailed(f"{name}: not attempted (the function still raises NotImplementedError).")
    print(message)
    return CheckResult(name, "not attempted", message)


def passed(name: str, detail: str) -> CheckResult:
    message = f"✅ {name}: correct ({detail})."
    print(message)
    return CheckResult(name, "passed", message)


def call_student(name: str, fn: Callable, args: Sequence):
    """Call the student's function on copies of ``args``; (True, value), or (False, None) when
    it still raises NotImplementedError. Any other exception becomes an ExerciseFailed."""
    if not callable(fn):
        raise ExerciseFailed(f"{name}: expected a function, got {_describe(fn)}.")
    try:
        return True, fn(*copy.deepcopy(list(args)))
    except NotImplementedError:
        return False, None
    except Exception as error:  # noqa: BLE001 - reported to the student with the input
        shapes = ", ".join(_describe(a) for a in args)
        raise ExerciseFailed(f"{name}: your function raised {type(error).__name__}: {error}\n"
                             f"  when called with: {shapes}") from error


def check_function(name: str, student: Callable, reference: Callable, cases: Sequence[Sequence], *,
                   mistakes: dict[str, tuple[Callable, str]] | None = None, atol: float = 1e-8,
                   rtol: float = 1e-6, hint: str = "") -> CheckResult:
    """Compare ``student(*case)`` with ``reference(*case)`` on each case.

    ``mistakes`` maps a name to (wrong implementation, explanation): when the student's output
    matches a wrong implementation, the explanation is what the student reads.
    """
    for i, case in enumerate(cases):
        attempted, got = call_student(name, student, case)
        if not attempted:
            return not_attempted(name)
        expected = reference(*copy.deepcopy(list(case)))
        if _close(got, expected, atol, rtol):
            continue
        got_t = _as_tensor(got)
        expected_t = _as_tensor(expected)
        if got_t.shape != expected_t.shape:
            raise ExerciseFailed(f"{name}: your function returns a {_describe(got)}, expected a "
                                 f"{_describe(expected)} (test input {i + 1}).")
        for explanation_name, (wrong, explanation) in (mistakes or {}).items():
            if _close(got, wrong(*copy.deepcopy(list(case))), atol, rtol):
                raise ExerciseFailed(f"{name}: {explanation} [recognized mistake: {explanation_name}]")
        diff = (got_t.double() - expected_t.double()).abs()
        where = tuple(int(j) for j in torch.nonzero(diff == diff.max())[0]) if diff.ndim else ()
        raise ExerciseFailed(
            f"{name}: wrong value on test input {i + 1}: largest difference {float(diff.max()):.3g}"
            + (f" at index {where}" if where else "")
            + f" (expected {float(expected_t.flatten()[0] if not where else expected_t[where]):.6g}, "
              f"got {float(got_t.flatten()[0] if not where else got_t[where]):.6g})."
            + (f" Hint: {hint}" if hint else ""))
    return passed(name, f"matches the reference on {len(cases)} test inputs")


def isolate_rng(namespace: dict) -> None:
    """Wrap every public ``check_*`` function in ``namespace`` (a check module's ``globals()``) so
    that it leaves torch's, NumPy's and Python's global random state as it found it.

    A check runs the student's code, which may draw random numbers (or not, when it is a stub).
    Without this, the models trained after an exercise would start from different weights in the
    teacher and student versions, and the checkpoint cache could not serve both.
    """
    import functools
    import random

    import numpy as np

    def wrap(fn):
        @functools.wraps(fn)
        def isolated(*args, **kwargs):
            python_state, numpy_state = random.getstate(), np.random.get_state()
            try:
                with torch.random.fork_rng(devices=[]):
                    return fn(*args, **kwargs)
            finally:
                random.setstate(python_state)
                np.random.set_state(numpy_state)

        return isolated

    for name, value in list(namespace.items()):
        if name.startswith("check_") and callable(value) and not getattr(value, "__wrapped__", None):
            namespace[name] = wrap(value)
