"""The one machinery behind every exercise check: an :class:`Exercise` is a declaration (the
package's reference, the test cases, the named mistakes, the accepted alternatives, the properties
the exercise text states) and ``exercise(student_function)`` runs it.

Whatever the student's code does (returns None, a tuple, a numpy array, NaN; raises; never
returns; changes its inputs), the student reads one short message in their own terms, never a
traceback into aelab. In an ordinary kernel a wrong answer is printed and the notebook runs on;
when grading (nbgrader, or ``AELAB_CHECKS_STRICT=1``) it raises :class:`ExerciseFailed`.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import os
import signal
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

TIME_LIMIT_S = 10.0  # per call of the student's function: long enough under load, short enough to wait for
EXERCISES: dict[str, Exercise] = {}  # every exercise of the course, as "module.check_name"
_MARKS = {"passed": "PASSED", "not attempted": "NOT ATTEMPTED", "wrong": "WRONG"}


class ExerciseFailed(AssertionError):
    """Raised, when grading, by a check whose exercise is wrong or not attempted; the message says why."""

    def _render_traceback_(self):
        # IPython prints these lines instead of a traceback: the student needs the message, not aelab's frames.
        return str(self).splitlines()


def grading() -> bool:
    """True under nbgrader's autograder or validator, or with ``AELAB_CHECKS_STRICT=1``.

    nbgrader sets NBGRADER_EXECUTION ("autograde" or "validate") in its own environment before it
    starts the kernel, which inherits it (documented in nbgrader's FAQ)."""
    return bool(os.environ.get("NBGRADER_EXECUTION")) or os.environ.get("AELAB_CHECKS_STRICT") == "1"


@dataclass(repr=False)
class CheckResult:
    """Outcome of a check: ``status`` is "passed", "not attempted" or "wrong"; ``message`` is what was printed."""

    name: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}, {self.status!r})"

    def _ipython_display_(self) -> None:
        """Nothing: the check printed its line already, so a check cell shows no ``Out[n]`` echo."""


class Case(tuple):
    """The arguments of one call of the student's function; ``note`` is added to any failure on it."""

    def __new__(cls, *args, note: str = ""):
        case = super().__new__(cls, args)
        case.note = note
        return case


class _Wrong(Exception):
    """Internal: the answer is wrong; the message is for the student."""


class _NotAttempted(Exception):
    pass


class _TimeLimit(BaseException):  # not an Exception, so that a student's `except Exception` cannot swallow it
    pass


def _code(fn):
    """The code object a call of ``fn`` runs (None for builtins and classes)."""
    return getattr(inspect.unwrap(fn), "__code__", None) if callable(fn) else None


def _describe_code(code) -> str:
    module = inspect.getmodule(code)
    return f"`{module.__name__ + '.' if module else ''}{code.co_qualname}`"


def _shape(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape)) if t.ndim else "() (a scalar)"  # 40x5: a wrapped line never splits it


def _describe(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).replace("torch.", "")
        return f"a {_shape(value)} {dtype} tensor" if value.ndim else f"a scalar {dtype} tensor"
    if isinstance(value, np.ndarray):
        return f"a {'x'.join(map(str, value.shape))} numpy array"
    if isinstance(value, (tuple, list)):  # torch.topk's result is a tuple too, whatever its class is called
        kind = "tuple" if isinstance(value, tuple) else "list"
        return f"a {kind} of {len(value)} ({', '.join(_describe(v) for v in value[:3])})"
    if isinstance(value, torch.nn.Module):
        return f"a {type(value).__name__} model"
    if callable(value):
        return "a function"
    return f"a {type(value).__name__} ({value!r:.40})"


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _close(a, b, atol: float, rtol: float) -> bool:
    """Same kind, shape and values (NaN never equals anything); tuples compare element by element."""
    if isinstance(b, (tuple, list)):
        return isinstance(a, (tuple, list)) and len(a) == len(b) and all(_close(x, y, atol, rtol) for x, y in zip(a, b))
    if _is_number(a) and isinstance(b, torch.Tensor):
        a, b = b, a
    if isinstance(a, torch.Tensor) and a.numel() == 1 and _is_number(b):
        a = a.item()
    if _is_number(a) and _is_number(b):
        return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape:
        return False
    return bool(torch.allclose(a.detach().cpu().double(), b.detach().cpu().double(), atol=atol, rtol=rtol))


def _call(fn: Callable, args: tuple, limit: float):
    """``fn(*args)`` under a time limit (SIGALRM, main thread of a Unix kernel only: elsewhere, none)."""
    timed = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not timed:
        return fn(*args)

    def expire(signum, frame):
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _student_line(error: BaseException, fn: Callable) -> str:
    """The line of the student's own code where ``error`` was raised (the last frame in their file)."""
    frames = traceback.extract_tb(error.__traceback__)
    filename = getattr(getattr(fn, "__code__", None), "co_filename", None)
    mine = [f for f in frames if f.filename == filename]
    if not mine:
        return ""
    frame = mine[-1]
    return f"\n  in your code, line {frame.lineno}: {(frame.line or '').strip()}"


def _changed(before, after) -> bool:
    if isinstance(before, torch.Tensor):
        return not (before.shape == after.shape and before.dtype == after.dtype
                    and torch.equal(before.detach().cpu(), after.detach().cpu()))
    if isinstance(before, torch.nn.Module):
        return any(_changed(a, b) for a, b in zip(before.state_dict().values(), after.state_dict().values()))
    return False


@dataclass(eq=False, repr=False)
class Exercise:
    """A declared exercise check. Call it with the student's function.

    * ``reference``: the package's implementation; the student's result must have its kind (tensor,
      number, integer, tuple), shape, dtype and device, and (by default) its values within atol/rtol.
    * ``cases``: a function returning the argument tuples (or :class:`Case`) to call both with.
    * ``mistakes``: name -> (wrong implementation, explanation); a wrong answer that matches one is
      told the explanation. ``accept``: name -> (alternative, note): an answer matching it passes, with the note.
    * ``forbidden``: functions that would hand over the answer (``torch.autograd.grad`` where the gradient is to
      be derived; the package functions the reference is built from). A student function that runs one of them,
      or the reference itself, directly or through any other function, is wrong (watched with ``sys.setprofile``
      while the student's code runs; the package's own functions, such as the named mistakes, are not watched).
    * ``compare``: replaces the value comparison, ``compare(got, expected, case) -> message or None``,
      for answers that are not unique (random masks, ties, roundings).
    * ``properties``: further checks ``prop(call, case, got) -> message or None`` (``call`` runs the student's
      function again, safely); ``gradient``: indices of the arguments the gradient must reach the way it
      reaches them in the reference (an empty tuple: the result must at least carry a gradient).
    """

    name: str
    reference: Callable
    cases: Callable[[], list]
    mistakes: dict = field(default_factory=dict)
    accept: dict = field(default_factory=dict)
    forbidden: tuple = ()
    compare: Callable | None = None
    properties: tuple = ()
    gradient: tuple | None = None
    atol: float = 1e-8
    rtol: float = 1e-6
    hint: str = ""
    passed: str = "matches the reference"

    def __repr__(self) -> str:
        return f"<exercise check {self.name!r}: call it with your function>"

    def __call__(self, student: Callable) -> CheckResult:
        __tracebackhide__ = True  # pytest shows the failing check cell, not this frame
        # The student's code may draw from the global generators (or not, when it is a stub); nothing
        # in the course reads them (seeds are arguments), so no state needs saving around it.
        status, detail = self._run(student)
        message = "\n".join(textwrap.fill(line, width=100, subsequent_indent="    ", break_long_words=False)
                            for line in f"{_MARKS[status]}  {self.name}: {detail}".splitlines())
        if status != "passed" and grading():
            error = ExerciseFailed(message)
            error.__cause__, error.__suppress_context__ = None, True
            raise error
        print(message)
        return CheckResult(self.name, status, message)

    # ---------------------------------------------------------------------------------- running
    def _run(self, student: Callable) -> tuple[str, str]:
        if not callable(student):
            return "wrong", f"expected your function, got {_describe(student)}."
        if any(student is f for f in (self.reference, *self.forbidden)):
            which = _describe_code(_code(student)) if _code(student) else "the package's function"
            return "wrong", (f"you handed in {which} itself, which computes this exercise's answer (the check "
                             "compares with it). Write your own.")
        try:
            note = ""
            for case in self.cases():
                note = self._one_case(student, case) or note
            if self.gradient is not None:
                self._check_gradient(student, self.cases()[0])
        except _NotAttempted:
            return "not attempted", "your function still raises NotImplementedError. Replace that line with your code."
        except _Wrong as wrong:
            return "wrong", str(wrong)
        return "passed", (note or self.passed) + "."

    def _names(self, student, case) -> list[str]:
        """The student's names for the arguments (the reference's where the student's are unknown, as with *args)."""
        def positional(fn):
            try:
                return [p.name for p in inspect.signature(fn).parameters.values()
                        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            except (TypeError, ValueError):
                return []
        names = positional(student)
        return (names + positional(self.reference)[len(names):] + [f"argument {i + 1}" for i in range(len(case))])[
            :len(case)]

    def _safe_call(self, student, case):
        """The student's result on copies of ``case``, with the copies, or a _Wrong/_NotAttempted."""
        args = copy.deepcopy(tuple(case))
        try:
            return self._watched(student, args), args
        except _Wrong:
            raise
        except NotImplementedError:
            raise _NotAttempted from None
        except _TimeLimit:
            raise _Wrong(f"your function did not return within {TIME_LIMIT_S:g} s on {self._inputs(student, case)} "
                         "(an endless loop, or a loop over every element?)." + self._note(case)) from None
        except Exception as error:  # noqa: BLE001 - whatever the student's code raises is reported to them
            raise _Wrong(f"your function raised {type(error).__name__}: {error}{_student_line(error, student)}\n"
                         f"  when called with {self._inputs(student, case)}." + self._note(case)) from None

    def _watched(self, student, args):
        """The student's call under the time limit, refused if it runs the reference or a forbidden function."""
        codes = [(f, _code(f)) for f in (self.reference, *self.forbidden) if callable(f)]
        watch = {code for _, code in codes if code is not None}
        builtins = [f for f, code in codes if code is None]   # C functions such as torch.cov have no code object
        if not (watch or builtins) or (getattr(student, "__module__", None) or "").startswith("aelab."):
            return _call(student, args, TIME_LIMIT_S)
        entered, previous = [], sys.getprofile()

        def profile(frame, event, arg):
            if entered:
                return
            if event == "call" and frame.f_code in watch:
                entered.append(_describe_code(frame.f_code))
            elif event == "c_call" and any(arg is f for f in builtins):
                entered.append(f"`{getattr(arg, '__module__', None) or 'torch'}.{arg.__name__}`")

        sys.setprofile(profile)
        try:
            result = _call(student, args, TIME_LIMIT_S)
        finally:
            sys.setprofile(previous)
        if entered:
            raise _Wrong(f"your function runs {entered[0]}, which computes this exercise's answer "
                         "for you (the check compares with it), so the check cannot tell whether you derived it. "
                         "Write it yourself with torch operations.")
        return result

    def _inputs(self, student, case) -> str:
        return ", ".join(f"{n}={a}" if _is_number(a) else f"{n} ({_describe(a)})"
                         for n, a in zip(self._names(student, case), case))

    @staticmethod
    def _note(case) -> str:
        return f" {case.note}" if getattr(case, "note", "") else ""

    def _one_case(self, student, case) -> str:
        got, args = self._safe_call(student, case)
        for name, before, after in zip(self._names(student, case), case, args):
            if _changed(before, after):
                raise _Wrong(f"your function changed its input `{name}` in place. The caller's data must stay as "
                             "it was: compute a new tensor (x * mask, torch.where, .clone() first) instead of "
                             "assigning into the input or using an in-place method such as .mul_() or .zero_().")
        expected = self.reference(*copy.deepcopy(tuple(case)))
        where = f" on {self._inputs(student, case)}" if case else ""
        pairs = self._parts(got, expected, where)
        problem = next((f"{label}{p}" for label, g, e in pairs if (p := _differs(g, e, self.atol, self.rtol,
                                                                                  shape_only=bool(self.compare)))),
                       None)
        if problem is None and self.compare is not None:
            problem = self.compare(got, expected, case)
            if problem and "[recognized mistake:" in problem:  # a compare that names the mistake has the last word
                raise _Wrong(problem + self._note(case))
        if problem is None:
            for _, g, e in pairs:
                _check_dtype(g, e, where)
            for prop in self.properties:
                if problem := prop(lambda *a: self._safe_call(student, a)[0], case, got):
                    raise _Wrong(problem + self._note(case))
            return ""
        for alternative, note in self.accept.values():
            if _close(got, alternative(*copy.deepcopy(tuple(case))), self.atol, self.rtol):
                return note
        for label, (wrong, explanation) in self.mistakes.items():
            if matched := self._matches(got, wrong(*copy.deepcopy(tuple(case))), expected):
                which = "" if matched is True else f" (in result {' and '.join(map(str, matched))})"
                raise _Wrong(f"{explanation}{which}\n  [recognized mistake: {label}]")
        for _, g, e in pairs:
            _check_dtype(g, e, where)
            _check_finite(g, e, where)
        hint = f" Hint: {self.hint}" if self.hint else ""
        raise _Wrong(f"wrong value{where}: {problem}." + self._note(case) + hint)

    def _matches(self, got, wrong, expected):
        """A result matches a mistake when it equals it, or, for a tuple, when each part is right or that
        mistake: then the numbers of the mistaken parts (none: no match)."""
        if not isinstance(expected, (tuple, list)):
            return _close(got, wrong, self.atol, self.rtol)
        parts = [(_close(g, w, self.atol, self.rtol), _close(g, e, self.atol, self.rtol))
                 for g, w, e in zip(got, wrong, expected)]
        mistaken = [i + 1 for i, (m, r) in enumerate(parts) if m and not r]
        return mistaken if mistaken and all(m or r for m, r in parts) else []

    @staticmethod
    def _parts(got, expected, where: str) -> list[tuple[str, object, object]]:
        """(label, got, expected) for the result, or for each part of a tuple, after checking their kinds."""
        if not isinstance(expected, (tuple, list)):
            _check_type(got, expected, where)
            return [("", got, expected)]
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            raise _Wrong(f"return {len(expected)} results, {', '.join(_describe(e) for e in expected)} "
                         f"(in that order); your function returned {_describe(got)}{where}.")
        labels = [f"result {i + 1} (expected {_describe(e)}): " for i, e in enumerate(expected)]
        for label, g, e in zip(labels, got, expected):
            _check_type(g, e, f" as {label[:-2]}{where}")
        return list(zip(labels, got, expected))

    def _check_gradient(self, student, case) -> None:
        """The gradient reaches the arguments ``self.gradient`` as in the reference (or at least the result)."""
        args = tuple(a.detach().clone().requires_grad_(i in self.gradient) if isinstance(a, torch.Tensor)
                     and a.is_floating_point() else a for i, a in enumerate(case))
        got, mine = self._safe_call(student, args)
        theirs = copy.deepcopy(args)
        expected = self.reference(*theirs)
        if not isinstance(got, torch.Tensor) or not got.requires_grad:
            raise _Wrong("the values are right but no gradient flows through your result (did you use .detach(), "
                         ".item(), float(), .numpy() or torch.tensor(...)?). Build it from the inputs with torch "
                         "operations, so that backpropagation goes through it.")
        weights = torch.linspace(1.0, 2.0, got.numel(), dtype=got.dtype).view(got.shape)
        mine_grads = self._grads(student, got * weights, mine)
        for i, g, e in zip(self.gradient, mine_grads, self._grads(None, expected * weights, theirs)):
            if not _close(g, e, 1e-6, 1e-5):
                name = self._names(student, case)[i]
                raise _Wrong(f"the values are right but the gradient with respect to `{name}` is wrong: it must flow "
                             "through the torch operations that compute the result (no .detach() on part of it, no "
                             "values copied in from elsewhere).")

    def _grads(self, student, out, args) -> list:
        inputs = [args[i] for i in self.gradient]
        if not inputs:
            return []
        try:
            grads = torch.autograd.grad(out.sum(), inputs, allow_unused=True)
        except RuntimeError as error:  # a broken graph in the student's code is reported to them
            raise _Wrong(f"the values are right but backpropagation through your result fails: {error}") from None
        return [torch.zeros_like(a) if g is None else g for a, g in zip(inputs, grads)]


def register(namespace: dict) -> None:
    """Add every ``check_*`` exercise of a check module (its ``globals()``) to :data:`EXERCISES`."""
    module = namespace["__name__"].rsplit(".", 1)[-1]
    EXERCISES.update({f"{module}.{name}": value for name, value in namespace.items()
                      if name.startswith("check_") and isinstance(value, Exercise)})


def _differs(got, expected, atol: float, rtol: float, shape_only: bool = False) -> str | None:
    """Where ``got`` and ``expected`` (of the same kind) differ, for the student; None if they agree."""
    if isinstance(expected, torch.Tensor) and got.shape != expected.shape:
        return f"your result has shape {_shape(got)}; expected {_shape(expected)}"
    if shape_only or _close(got, expected, atol, rtol):
        return None
    if isinstance(expected, torch.Tensor):
        if expected.ndim:
            diff = (got.detach().cpu().double() - expected.detach().cpu().double()).abs().nan_to_num(math.inf)
            at = tuple(int(i) for i in torch.nonzero(diff == diff.max())[0])
            return (f"largest difference {float(diff.max()):.3g} at index {at} (expected {float(expected[at]):.6g}, "
                    f"got {float(got[at]):.6g})")
    number = lambda v: float(v.detach()) if isinstance(v, torch.Tensor) else float(v)  # noqa: E731
    return f"expected {number(expected):.6g}, got {number(got):.6g}"


def _check_type(got, expected, where: str) -> None:
    """The student's result is of the reference's kind (tensor, number, integer); else a message."""
    if got is None:
        raise _Wrong(f"your function returned None{where}: did you forget the `return` statement?")
    if isinstance(expected, torch.Tensor):
        if isinstance(got, (tuple, list)):
            hint = " (a pair, as torch.topk and torch.sort return: keep the part you need)" if len(got) == 2 else ""
            raise _Wrong(f"return one tensor; your function returned {_describe(got)}{hint}{where}.")
        if not isinstance(got, torch.Tensor):
            kind = _describe(expected)
            raise _Wrong(f"return {kind} built with torch operations (it keeps the dtype, the device and the "
                         f"gradient); your function returned {_describe(got)}{where}.")
    elif isinstance(expected, numbers.Integral) and not isinstance(expected, bool):
        integer_tensor = isinstance(got, torch.Tensor) and got.numel() == 1 and not got.is_floating_point()
        value = got.item() if integer_tensor else got
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise _Wrong(f"return a whole number (an int: round(...) or int(...)); your function returned "
                         f"{_describe(got)}{where}.")
    elif _is_number(expected) and not (_is_number(got) or isinstance(got, torch.Tensor) and got.numel() == 1):
        raise _Wrong(f"return one number (a float, or a tensor with one element); your function returned "
                     f"{_describe(got)}{where}.")


def _check_dtype(got, expected, where: str) -> None:
    if isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor):
        if got.dtype != expected.dtype:
            raise _Wrong(f"your result has dtype {got.dtype}; expected {expected.dtype}, the inputs' dtype{where}: "
                         "do not convert (no .float() or .double(), no mask or constant of another dtype).")
        if got.device != expected.device:
            raise _Wrong(f"your result is on {got.device}; expected {expected.device}, the inputs' device{where}.")


def _check_finite(got, expected, where: str) -> None:
    values = torch.as_tensor(got.detach().cpu() if isinstance(got, torch.Tensor) else got, dtype=torch.float64)
    if bool(torch.isfinite(values).all()) or not bool(torch.isfinite(torch.as_tensor(expected).double()).all()):
        return
    bad = ~torch.isfinite(values)
    at = f" (e.g. at index {tuple(int(i) for i in torch.nonzero(bad)[0])})" if values.ndim else ""
    raise _Wrong(f"your result contains {int(bad.sum())} NaN or infinite value(s){at}{where}: look for a log of 0, "
                 "a division by 0, or a square root of a negative number.")
