"""Render every notebook, executed, to HTML, so the course can be read without running it.

    python tools/render_html.py [--out build/html] [--executed DIR] [--notebooks 04 08]

Renders the size students run (honours AELAB_*; `make test` renders the full size on the models its
notebook leg cached, so nothing is trained twice). ``--executed DIR`` also keeps each executed
notebook there, for builds that must not execute anything again. Works offline.
"""

from __future__ import annotations

import argparse
import html
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "html")
    parser.add_argument("--executed", type=Path, default=None, help="also save the executed notebooks here")
    parser.add_argument("--notebooks", nargs="*", default=None, help="number prefixes, e.g. 04 08 (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.pop("MPLBACKEND", None)  # the kernel must use the inline backend, or the HTML has no figures
    exporter = HTMLExporter()
    links = []
    paths = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if args.notebooks:
        paths = [p for p in paths if p.name[:2] in args.notebooks]
        if not paths:
            raise SystemExit(f"no notebook in notebooks/ starts with {' or '.join(args.notebooks)}")
    for path in paths:
        start = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=3600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        figures = sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))
        if figures == 0:
            raise SystemExit(f"{path.name}: executed, but no figure reached the output; is MPLBACKEND forcing Agg?")
        if args.executed:
            args.executed.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, args.executed / path.name)
        body, _ = exporter.from_notebook_node(nb)
        target = args.out / f"{path.stem}.html"
        target.write_text(body)
        title = next((c.source.splitlines()[0].lstrip("# ") for c in nb.cells if c.cell_type == "markdown"), path.stem)
        links.append(f'<li><a href="{target.name}">{html.escape(title)}</a></li>')
        print(f"{path.name} -> {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target} "
              f"({figures} figures, {time.perf_counter() - start:.0f} s)", flush=True)
    (args.out / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>aelab: autoencoders</title>"
        "<h1>aelab: a course on autoencoders</h1><ol>" + "".join(links) + "</ol>")
    print(f"open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
