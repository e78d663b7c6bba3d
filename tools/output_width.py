"""Fail when an executed notebook prints a line wider than a laptop's JupyterLab output area.

    python tools/output_width.py .aelab-test/executed [--width 100]

Reads the text a student sees under each code cell (printed streams, warnings and plain-text
results; a widget's text stand-in is not shown in JupyterLab and is skipped) and lists every line
over the width (aelab.course.WIDTH, 100 characters: what one output line shows on a 1366-pixel
screen with the file browser open), with its notebook and cell. `make test` runs it on the
full-size executed notebooks of the HTML leg.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aelab.course import WIDTH  # noqa: E402

WIDGET = "application/vnd.jupyter.widget-view+json"


def visible_text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type in ("execute_result", "display_data"):
        data = output.get("data", {})
        if WIDGET in data or "image/png" in data or "text/html" in data:
            return ""   # the widget, picture or HTML is what is shown, not its plain-text stand-in
        return data.get("text/plain", "")
    if output.output_type == "error":
        return f"{output.ename}: {output.evalue}"
    return ""


def too_wide(path: Path, width: int) -> list[str]:
    found = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            for line in visible_text(output).splitlines():
                if len(line.expandtabs()) > width:
                    found.append(f"{path.name}, cell {index}: {len(line)} characters: {line[:width]}...")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="folder of executed notebooks")
    parser.add_argument("--width", type=int, default=WIDTH)
    args = parser.parse_args(argv)
    paths = sorted(args.folder.glob("*.ipynb"))
    if not paths:
        print(f"output_width: no executed notebooks in {args.folder}", file=sys.stderr)
        return 2
    found = [line for path in paths for line in too_wide(path, args.width)]
    for line in found:
        print(line)
    print(f"output_width: {len(found)} printed lines over {args.width} characters in {len(paths)} notebooks")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
