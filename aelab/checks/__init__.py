"""Self-checks for the notebooks' exercises.

Each ``check_*`` is an :class:`Exercise`, a declaration run on the student's function: it prints
``PASSED``, ``NOT ATTEMPTED`` (the function still raises NotImplementedError) or ``WRONG`` with what
is wrong in the student's terms (naming a common mistake when the answer matches one), and returns
a :class:`CheckResult`. A wrong answer never stops the notebook, except when grading: under
nbgrader (``NBGRADER_EXECUTION`` set) or with ``AELAB_CHECKS_STRICT=1``, anything but a pass
raises :class:`ExerciseFailed` with the same text, so that the grade cell fails.
"""

# The check modules are imported here so that EXERCISES lists every exercise of the course.
from . import contractive, denoising, ksparse, latent, linear_ae, maximize, pca, score, sparse
from ._core import EXERCISES, Case, CheckResult, Exercise, ExerciseFailed, grading

__all__ = ["EXERCISES", "Case", "CheckResult", "Exercise", "ExerciseFailed", "contractive", "denoising", "grading",
           "ksparse", "latent", "linear_ae", "maximize", "pca", "score", "sparse"]
