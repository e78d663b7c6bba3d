"""Self-checks for the notebooks' exercises.

Each ``check_*`` function takes the student's function, runs it on a few inputs and compares it
with aelab's reference. It prints a pass line; raises :class:`ExerciseFailed` (an AssertionError)
that explains the mistake in the student's terms, naming a common wrong variant when the answer
matches one; or prints "not attempted" when the function still raises NotImplementedError, so
that a student notebook runs end to end.
"""

from ._core import CheckResult, ExerciseFailed, check_function

__all__ = ["CheckResult", "ExerciseFailed", "check_function"]
