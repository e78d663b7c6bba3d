"""Build the course site, a book to read in a browser, from notebooks executed before.

    python tools/build_site.py --executed DIR [--out build/site] [--notebooks 01 04]

DIR holds the executed notebooks (make test saves them at the full size in $(TEST_DIR)/executed);
nothing is executed here. Sphinx with MyST-NB and sphinx-book-theme (site/conf.py) turns them into
pages with a table of contents, search, math (MathJax served with the site, so it renders offline)
and the figures; each page links to its notebook and its student version, copied into the site.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
WIDGET = "application/vnd.jupyter.widget-view+json"
SLIDER_NOTE = ("<p class='aelab-widget-note'><em>Sliders here in JupyterLab: open the notebook to move them "
               "(the same content is drawn as a static figure on this page).</em></p>")


def links_cell(stem: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(
        "<p class='aelab-links'>Run this chapter in JupyterLab: "
        f"<a class='aelab-notebook-link' href='notebooks/{stem}.ipynb' download>the notebook</a> · "
        f"<a class='aelab-notebook-link' href='assignments/{stem}.ipynb' download>its student version "
        "(the exercises to solve)</a></p>")


def prepare(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """Check that the notebook was executed; drop widget views (they need a kernel) for a note; add the links."""
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    missing = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    if missing:
        raise SystemExit(f"{stem}: {len(missing)} of {len(code)} code cells were not executed: "
                         "the site is built from executed notebooks (make test writes them).")
    for cell in code:
        kept = [o for o in cell.outputs if WIDGET not in o.get("data", {})]
        if len(kept) < len(cell.outputs):
            kept.append(nbformat.v4.new_output("display_data", data={"text/html": SLIDER_NOTE}))
        cell.outputs = kept
    nb.metadata.pop("widgets", None)  # else MyST-NB loads the widget manager from a CDN
    first_markdown = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    nb.cells.insert(first_markdown + 1, links_cell(stem))
    return nb


def title(nb: nbformat.NotebookNode, stem: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return stem


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executed", type=Path, required=True, help="folder of executed notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    parser.add_argument("--notebooks", nargs="*", default=None, help="number prefixes, e.g. 01 04 (default: all)")
    args = parser.parse_args()
    started = time.perf_counter()
    stems = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
             if not args.notebooks or p.name[:2] in args.notebooks]
    absent = [s for s in stems if not (args.executed / f"{s}.ipynb").exists()]
    if absent or not stems:
        raise SystemExit(f"no executed notebook in {args.executed} for {', '.join(absent) or 'any chapter'}: "
                         "run make test first (it saves them there), or pass --executed DIR.")

    src = args.out.parent / f"{args.out.name}-src"
    shutil.rmtree(src, ignore_errors=True)
    (src / "_static").mkdir(parents=True)
    shutil.copy(ROOT / "site" / "conf.py", src / "conf.py")
    shutil.copy(ROOT / "site" / "aelab.css", src / "_static" / "aelab.css")
    import jupyter_server_mathjax

    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", src / "_static" / "mathjax")
    for folder in ("notebooks", "assignments"):
        (src / "_extra" / folder).mkdir(parents=True)
        for stem in stems:
            shutil.copy(ROOT / folder / f"{stem}.ipynb", src / "_extra" / folder / f"{stem}.ipynb")

    titles = []
    for stem in stems:
        nb = prepare(nbformat.read(args.executed / f"{stem}.ipynb", as_version=4), stem)
        nbformat.write(nb, src / f"{stem}.ipynb")
        titles.append(title(nb, stem))
    intro = (ROOT / "site" / "index.md").read_text()
    toc = "\n".join(stems)
    (src / "index.md").write_text(f"{intro}\n```{{toctree}}\n:maxdepth: 1\n:caption: The course\n\n{toc}\n```\n")

    shutil.rmtree(args.out, ignore_errors=True)
    build = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
                            str(src), str(args.out)], check=False)
    if build.returncode:
        raise SystemExit(f"sphinx-build failed (exit {build.returncode}); its source is in {src}")
    for stem, name in zip(stems, titles):
        page = (args.out / f"{stem}.html").read_text()
        figures = page.count("<img")
        if figures == 0 or "aelab-notebook-link" not in page:
            raise SystemExit(f"{stem}.html: {figures} figures, links present: {'aelab-notebook-link' in page}")
        print(f"{stem}.html: {name} ({figures} figures)")
    if not (args.out / "searchindex.js").exists():
        raise SystemExit("no searchindex.js: the site has no search")
    print(f"open {args.out / 'index.html'} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
