"""Grading with nbgrader, end to end: run by ``make nbgrader`` (AELAB_E2E=1).

An nbgrader course in a temporary folder, its source the course notebooks; ``generate_assignment``
must release what ``assignments/`` holds; three submissions of notebook 01 (the cheapest notebook
with exercises: it trains nothing, so three autograding runs cost about a minute each) are autograded: the solved
notebook (full points), the untouched student version (0 for every exercise, and it runs to the end),
and one with a wrong answer (0 for that exercise, the check's message in the feedback). The kernels
inherit AELAB_*: with AELAB_CACHE_DIR pointing at a warm cache nothing is trained.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools.make_assignments import STUB

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
GRADED = "01_pca_derivation"
ASSIGNMENT = "ps01"
WRONG_COVARIANCE = '''def covariance(X):
    """X: (N, D) float64 tensor -> (D, D) covariance (1/N)."""
    return X.T @ X / len(X)'''
# The configuration an instructor uses (the README's instructor section shows the same lines).
CONFIG = f'''c = get_config()
c.CourseDirectory.course_id = "aelab"
c.ClearSolutions.code_stub = {{"python": {STUB!r}}}   # the stub assignments/ has
c.Execute.timeout = 3600                              # seconds per cell (nbgrader's default is 30)
'''


def nbgrader(course: Path, *args: str) -> str:
    # nbgrader runs `alembic` (its database migrations) from PATH: the environment's bin/ must be on it.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def cells(path: Path) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nbformat.read(path, as_version=4).cells]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader-course")
    (course / "nbgrader_config.py").write_text(CONFIG)
    (course / "source" / "course").mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, course / "source" / "course" / path.name)
    (course / "source" / ASSIGNMENT).mkdir()
    shutil.copy(ROOT / "notebooks" / f"{GRADED}.ipynb", course / "source" / ASSIGNMENT)
    nbgrader(course, "generate_assignment", "course")
    nbgrader(course, "generate_assignment", ASSIGNMENT)

    release = nbformat.read(course / "release" / ASSIGNMENT / f"{GRADED}.ipynb", as_version=4)
    wrong = nbformat.from_dict(release)
    answer = [c for c in wrong.cells if c.cell_type == "code" and c.source.startswith("def covariance")]
    assert len(answer) == 1
    answer[0].source = WRONG_COVARIANCE
    submissions = {"solved": nbformat.read(ROOT / "notebooks" / f"{GRADED}.ipynb", as_version=4),
                   "untouched": release, "wrong": wrong}
    for student, nb in submissions.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{GRADED}.ipynb")
    nbgrader(course, "autograde", ASSIGNMENT, "--create")
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    return course


def scores(course: Path, student: str) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(GRADED, ASSIGNMENT, student)
        return {g.name: (g.score, g.max_score) for g in notebook.grades}


def test_released_notebooks_are_the_student_versions(course):
    for path in NOTEBOOKS:
        released = course / "release" / "course" / path.name
        assert cells(released) == cells(ROOT / "assignments" / path.name), (
            f"nbgrader's release of {path.name} differs from assignments/{path.name}: make assignments?")


def test_solved_notebook_gets_full_points(course):
    got = scores(course, "solved")
    assert got and all(score == most for score, most in got.values()), got


def test_untouched_student_version_gets_0_and_runs_to_the_end(course):
    got = scores(course, "untouched")
    assert got and all(score == 0 for score, _ in got.values()), got
    graded = nbformat.read(course / "autograded" / "untouched" / ASSIGNMENT / f"{GRADED}.ipynb", as_version=4)
    code = [c for c in graded.cells if c.cell_type == "code" and c.source.strip()]
    assert all(c.execution_count for c in code), "autograding stopped before the end of the notebook"
    assert not [o for c in code for o in c.outputs if o.get("output_type") == "error" and
                "ExerciseFailed" not in o.get("ename", "")], "a cell other than a check failed"


def test_wrong_answer_gets_0_for_that_exercise_and_its_message(course):
    got = scores(course, "wrong")
    check_ids = [name for name in got if name.startswith("ex_covariance")]
    assert check_ids and all(got[name][0] == 0 for name in check_ids), got
    feedback = (course / "feedback" / "wrong" / ASSIGNMENT / f"{GRADED}.html").read_text()
    assert "did not centre the data" in feedback, "the check's message is not in the feedback"
