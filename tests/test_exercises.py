"""One registry, one test: every exercise of every notebook is a registered check whose notebook
solution passes, whose stub says "not attempted", whose listed mistakes are each rejected with their
message, and which answers the generic failures (None, a tuple, NaN, an exception, an in-place
change of the inputs) with a message instead of a traceback into aelab."""

import math
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch.nn import functional as F

import aelab
from aelab import course
from aelab.activations import top_k
from aelab.checks import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.make_assignments import strip_solutions  # noqa: E402

CALL = re.compile(r"\b(check_\w+)\((\w+)\)")


def _notebook_exercises():
    """(notebook, check name, function name, solution cell source) for every exercise of every notebook."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        for i, cell in enumerate(cells):
            if cell.metadata.get("nbgrader", {}).get("solution"):
                grade = next(c for c in cells[i + 1:] if c.metadata.get("nbgrader", {}).get("grade"))
                check, function = CALL.search(grade.source).groups()
                found.append((path.name, check, function, cell.source))
    return found


EXERCISE_CELLS = _notebook_exercises()


def _registered(check: str):
    keys = [key for key in EXERCISES if key.endswith(f".{check}")]
    assert len(keys) == 1, f"{check} is not in aelab.checks.EXERCISES (register it in its check module)"
    return EXERCISES[keys[0]]


def test_every_exercise_of_every_notebook_is_registered_and_every_check_call_is_an_exercise():
    checks = {check for _, check, _, _ in EXERCISE_CELLS}
    assert len(EXERCISE_CELLS) == len(checks) == len(EXERCISES), (sorted(checks), sorted(EXERCISES))
    for check in checks:
        _registered(check)
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for check, _ in CALL.findall(cell.source):
                assert check in checks or check in vars(course), f"{path.name} calls {check} outside an exercise"


def _function(source: str, name: str):
    namespace = {"torch": torch, "F": F, "np": np, "aelab": aelab, "top_k": top_k}
    exec(compile(source, "<exercise cell>", "exec"), namespace)
    return namespace[name]


IDS = [f"{nb[:2]}-{check}" for nb, check, _, _ in EXERCISE_CELLS]


@pytest.mark.parametrize("notebook, check, function, source", EXERCISE_CELLS, ids=IDS)
def test_the_notebooks_solution_passes_and_its_stub_is_not_attempted(notebook, check, function, source, capsys):
    exercise = _registered(check)
    assert exercise(_function(source, function)).passed, capsys.readouterr().out
    stub, blocks = strip_solutions(source, notebook)
    assert blocks == 1 and exercise(_function(stub, function)).status == "not attempted"


MISTAKES = [(check, label) for _, check, _, _ in EXERCISE_CELLS for label in _registered(check).mistakes]


@pytest.mark.parametrize("check, label", MISTAKES, ids=[f"{c}-{m}" for c, m in MISTAKES])
def test_each_listed_mistake_is_rejected_with_its_message(check, label, capsys):
    exercise = _registered(check)
    wrong, explanation = exercise.mistakes[label]
    result = exercise(wrong)
    assert result.status == "wrong" and f"[recognized mistake: {label}]" in result.message, result.message


def _nan_like(value):
    if isinstance(value, tuple):
        return (_nan_like(value[0]),) + tuple(value[1:])
    return value * math.nan if isinstance(value, torch.Tensor) else math.nan


def _in_place(solution):
    def student(*args):
        out = solution(*args)
        tensor = next(a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point())
        with torch.no_grad():
            tensor.add_(1.0)
        return out
    return student


def _own_error(*args):
    raise ValueError("my own error")


GENERIC = {
    "returns None": (lambda sol: lambda *a: None, "returned None"),
    "returns a tuple": (lambda sol: lambda *a: (sol(*a), sol(*a), None), "tuple"),
    "returns NaN": (lambda sol: lambda *a: _nan_like(sol(*a)), "NaN|whole number"),
    "raises its own error": (lambda sol: _own_error, "raised ValueError: my own error.*line"),
    "changes its input": (_in_place, "changed its input `\\w+` in place"),
}
GENERIC_CASES = [(nb, check, function, source, kind) for nb, check, function, source in EXERCISE_CELLS
                 for kind in GENERIC if not (kind == "changes its input"
                                                 and check in ("check_k_schedule", "check_contaminated_auc"))]


@pytest.mark.parametrize("notebook, check, function, source, kind", GENERIC_CASES,
                         ids=[f"{c[0][:2]}-{c[1]}-{c[4]}" for c in GENERIC_CASES])
def test_generic_failures_get_their_message(notebook, check, function, source, kind, capsys):
    make, message = GENERIC[kind]
    result = _registered(check)(make(_function(source, function)))
    assert result.status == "wrong" and re.search(message, result.message, re.S), result.message
