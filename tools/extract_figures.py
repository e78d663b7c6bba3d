"""Execute a notebook and save every figure it draws as a PNG, to look at them one by one.

    python tools/extract_figures.py notebooks/01_pca_derivation.ipynb OUT_DIR

Honours the AELAB_* environment variables (AELAB_FAST=1 for the quick size). Figures are named
``<cell index>_<n>.png``; the executed notebook is written to OUT_DIR too.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    os.environ.pop("MPLBACKEND", None)  # the kernel must use the inline backend to emit figures
    nb = nbformat.read(source, as_version=4)
    resources = {"metadata": {"path": str(source.parent)}}
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources=resources).execute()
    nbformat.write(nb, out / source.name)
    count = 0
    for index, cell in enumerate(nb.cells):
        for n, output in enumerate(o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})):
            (out / f"{index:03d}_{n}.png").write_bytes(base64.b64decode(output["data"]["image/png"]))
            count += 1
    print(f"{count} figures written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
