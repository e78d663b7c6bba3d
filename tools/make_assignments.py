"""Generate the student version of every notebook into assignments/.

    python tools/make_assignments.py [--check]

In each notebook, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (markers
included) become ``raise NotImplementedError(...)`` at the same indentation, which is what
nbgrader's ``generate_assignment`` does with the same markers; outputs are cleared; cell
metadata (tags, nbgrader) is kept, so instructors can also feed either version to nbgrader.
A solution must sit inside a function body, so the student notebook still runs end to end and
its check cell prints "not attempted". ``--check`` writes nothing and exits 1 if assignments/ is
out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'

class SolutionError(ValueError):
    pass

def strip_solutions(source: str, where: str) -> tuple[str, int]:
    """Replace each solution block of a cell's source; return the new source and the block count."""
    lines, out, blocks, inside = source.splitlines(), [], 0, False
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise SolutionError(f"{where}, line {number}: {BEGIN} inside another solution block.")
            indent = line[: len(line) - len(line.lstrip())]
            if not indent:
                raise SolutionError(f"{where}, line {number}: a solution block must be inside a function body, "
                                    "so that the student version still runs.")
            out.append(indent + STUB)
            inside, blocks = True, blocks + 1
        elif stripped == END:
            if not inside:
                raise SolutionError(f"{where}, line {number}: {END} without {BEGIN}.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise SolutionError(f"{where}: {BEGIN} is never closed.")
    return "\n".join(out), blocks

def student_version(path: Path) -> tuple[nbformat.NotebookNode, int]:
    nb = nbformat.read(path, as_version=4)
    total = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.source, blocks = strip_solutions(cell.source, f"{path.name}, cell {index}")
        total += blocks
        cell.outputs, cell.execution_count = [], None
        if blocks:
            cell.metadata.setdefault("nbgrader", {}).update({"solution": True, "grade": False})
    nb.metadata.pop("widgets", None)
    return nb, total

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if assignments/ is out of date")
    parser.add_argument("--source", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "assignments")
    args = parser.parse_args()
    stale = []
    args.out.mkdir(exist_ok=True)
    expected = set()
    for path in sorted(args.source.glob("[0-9]*.ipynb")):
        nb, blocks = student_version(path)
        if blocks == 0:
            print(f"{path.name}: no exercises (no {BEGIN} markers)", file=sys.stderr)
        text = nbformat.writes(nb) + "\n"
        target = args.out / path.name
        expected.add(target.name)
        if not target.exists() or target.read_text() != text:
            stale.append(target.name)
            if not args.check:
                target.write_text(text)
        print(f"{path.name}: {blocks} solution block(s) replaced")
    extra = [p.name for p in args.out.glob("*.ipynb") if p.name not in expected]
    for name in extra:
        stale.append(name)
        if not args.check:
            (args.out / name).unlink()
    if args.check and stale:
        print(f"assignments/ is out of date ({', '.join(stale)}): run `make assignments` and commit.", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    raise SystemExit(main())

