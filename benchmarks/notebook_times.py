"""Each notebook's wall time at the size students run it: with a cold cache, then a warm one.

    python benchmarks/notebook_times.py [--datasets fashion-mnist mnist] [--notebooks 01 04] [--mnist-dir DIR]

Runs every notebook as "Restart Kernel and Run All Cells" does (a fresh kernel, nbclient), first
into an empty checkpoint cache (every model trained), then again on what that run cached (models
loaded), and prints a table for the README with the load average before and after, so a reader can
see whether the cores were quiet. Budgets (issue 10): at most 3 minutes cold, 15 s warm, on 2 CPU
cores. Nothing is asserted: times depend on the machine. For MNIST offline, pass an MNIST-format
folder (tools/build_mnist_subset.py makes one from the MNIST test split).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
COLD_BUDGET_S, WARM_BUDGET_S = 180, 15


def run_notebook(path: Path, env: dict[str, str]) -> float:
    """Seconds to execute ``path`` in a fresh kernel with ``env`` added to the environment."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=1800, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return time.perf_counter() - start
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["fashion-mnist"])
    parser.add_argument("--notebooks", nargs="*", default=None, help="number prefixes, e.g. 01 05 (default: all)")
    parser.add_argument("--mnist-dir", default=None, help="AELAB_DATA_DIR for the mnist runs")
    args = parser.parse_args()
    paths = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if args.notebooks:
        paths = [p for p in paths if p.name[:2] in args.notebooks]
    print(f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); load average before: {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for dataset in args.datasets:
        with tempfile.TemporaryDirectory(prefix="aelab-bench-") as cache:
            env = {"AELAB_DATASET": dataset, "AELAB_CACHE_DIR": cache, "MPLBACKEND": "Agg", "AELAB_OFFLINE": "1"}
            env.pop("AELAB_FAST", None)
            os.environ.pop("AELAB_FAST", None)
            if dataset == "mnist" and args.mnist_dir:
                env["AELAB_DATA_DIR"] = os.path.abspath(args.mnist_dir)   # the kernels run in notebooks/
            for path in paths:
                cold = run_notebook(path, env)
                warm = run_notebook(path, env)
                flag = " (over budget)" if cold > COLD_BUDGET_S or warm > WARM_BUDGET_S else ""
                rows.append((path.stem, dataset, cold, warm))
                print(f"{path.stem:34s} {dataset:14s} cold {cold:6.1f} s  warm {warm:5.1f} s{flag}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("\n| notebook | dataset | cold cache | warm cache |\n|---|---|---|---|")
    for stem, dataset, cold, warm in rows:
        print(f"| {stem} | {dataset} | {cold:.0f} s | {warm:.0f} s |")
    for dataset in args.datasets:
        cold = sum(r[2] for r in rows if r[1] == dataset)
        warm = sum(r[3] for r in rows if r[1] == dataset)
        print(f"| all ({dataset}) | | {cold:.0f} s | {warm:.0f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
