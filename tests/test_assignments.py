"""The student versions: solutions removed, nothing leaked, up to date with the notebooks."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools.make_assignments import BEGIN, END, STUB, SolutionError, strip_solutions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def test_solution_block_becomes_a_stub_at_its_indentation():
    source = f"def f(x):\n    '''doc'''\n    {BEGIN}\n    y = x + 1\n    return y\n    {END}\n\nprint(1)"
    out, blocks = strip_solutions(source, "cell")
    assert blocks == 1 and out == f"def f(x):\n    '''doc'''\n    {STUB}\n\nprint(1)"


@pytest.mark.parametrize("source, match", [
    (f"{BEGIN}\nx = 1\n{END}", "inside a function"),
    (f"def f():\n    {BEGIN}\n    return 1", "never closed"),
    (f"def f():\n    {END}", "without"),
])
def test_malformed_blocks_are_rejected(source, match):
    with pytest.raises(SolutionError, match=match):
        strip_solutions(source, "cell")


def solution_lines(nb):
    lines, inside = set(), False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            if line.strip() == BEGIN:
                inside = True
            elif line.strip() == END:
                inside = False
            elif inside and len(line.strip()) > 12 and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_exercises_and_no_solution_leaks(path):
    teacher = nbformat.read(path, as_version=4)
    student_path = ROOT / "assignments" / path.name
    assert student_path.exists(), "run `make assignments`"
    student = nbformat.read(student_path, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert BEGIN not in text and END not in text
    assert text.count(STUB) >= 2, "every notebook has at least two exercises"
    code = {line.strip() for c in student.cells if c.cell_type == "code" for line in c.source.splitlines()}
    leaked = solution_lines(teacher) & code
    assert not leaked, f"solution lines in the student version: {sorted(leaked)[:3]}"
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_assignments_are_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_assignments.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
