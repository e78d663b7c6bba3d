"""Run every notebook at full size on each dataset and write results/RESULTS.md.

    python tools/run_full.py [--datasets fashion-mnist mnist] [--notebooks 01 02] [--table-only]

Each run records its claims (measured value, bound, tier) in results/raw/ through aelab's
``Claims`` (AELAB_RESULTS_DIR); the table lists them with the dataset, date, machine and the
notebook's wall time. Uses the normal checkpoint cache, so a second run is quick. For MNIST
without network access, pass --mnist-dir with an MNIST-format folder (tools/build_mnist_subset.py
makes one from the MNIST test split).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "results" / "raw"
TABLE = ROOT / "results" / "RESULTS.md"


def run(notebook: Path, dataset: str, mnist_dir: str | None) -> float:
    env = {"AELAB_DATASET": dataset, "AELAB_RESULTS_DIR": str(RAW), "AELAB_FAST": "0", "MPLBACKEND": "Agg"}
    if dataset == "mnist" and mnist_dir:
        env["AELAB_DATA_DIR"] = mnist_dir
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        nb = nbformat.read(notebook, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=3600, kernel_name="python3",
                       resources={"metadata": {"path": str(notebook.parent)}}).execute()
        return time.perf_counter() - start
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def write_table() -> None:
    timings = json.loads((RAW / "timings.json").read_text()) if (RAW / "timings.json").exists() else {}
    rows = ["# Results at full size", "",
            "Every claim the notebooks assert, measured at the full size (`make results`). Claims marked "
            "*full* are asserted only at this size; *fast* ones are asserted in CI too. The time after each "
            "heading is that run's wall time, with whatever the checkpoint cache held (seconds when the models "
            "were already trained); the README gives cold-cache times.", ""]
    for path in sorted(RAW.glob("*__full.json")):
        record = json.loads(path.read_text())
        key = f"{record['notebook']}__{record['dataset']}"
        wall = f", {timings[key]:.0f} s" if key in timings else ""
        rows += [f"## {record['notebook']} on {record['dataset']}", "",
                 f"{record['date']}; {record['machine']}; torch {record['torch']}{wall}", "",
                 "| claim | measured | bound | tier | holds |", "|---|---|---|---|---|"]
        for claim in record["claims"]:
            rows.append(f"| {claim['claim']} | {claim['value']:.4g} | {claim['bound']} | {claim['tier']} | "
                        f"{'yes' if claim['holds'] else '**no**'} |")
        rows.append("")
    done = {p.name.rsplit("__", 1)[0] for p in RAW.glob("*__full.json")}
    missing = [f"{nb.stem} on {ds}" for nb in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
               for ds in ("fashion-mnist", "mnist") if f"{nb.stem}__{ds}" not in done]
    if missing:
        rows += ["## Not yet run at full size", "",
                 "Their full-tier claims are printed, not asserted, at the fast size until a full run records them:",
                 ""]
        rows += [f"- {m}" for m in missing] + [""]
    TABLE.parent.mkdir(exist_ok=True)
    TABLE.write_text("\n".join(rows))
    print(f"wrote {TABLE}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["fashion-mnist", "mnist"])
    parser.add_argument("--notebooks", nargs="*", default=None, help="number prefixes, e.g. 01 05")
    parser.add_argument("--mnist-dir", default=None)
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    RAW.mkdir(parents=True, exist_ok=True)
    if not args.table_only:
        timings_path = RAW / "timings.json"
        timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
        notebooks = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
        if args.notebooks:
            notebooks = [p for p in notebooks if p.name[:2] in args.notebooks]
        failed = []
        for dataset in args.datasets:
            for notebook in notebooks:
                print(f"running {notebook.name} on {dataset} at full size ...", flush=True)
                try:
                    seconds = run(notebook, dataset, args.mnist_dir)
                except Exception as error:  # one failing claim must not cost the other runs
                    print(f"  FAILED: {str(error).strip().splitlines()[-1][:300]}", flush=True)
                    failed.append(f"{notebook.stem} on {dataset}")
                    continue
                timings[f"{notebook.stem}__{dataset}"] = seconds
                timings_path.write_text(json.dumps(timings, indent=1, sort_keys=True))
                print(f"  {seconds:.0f} s", flush=True)
        if failed:
            print("failed: " + "; ".join(failed))
    write_table()
    return 1 if not args.table_only and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
