"""The committed results table: write it from a run's claim records, or check a run against it.

    python tools/results.py --check RUN_DIR     # fail if RUN_DIR's claims moved from results/raw
    python tools/results.py --update RUN_DIR    # copy RUN_DIR's records into results/raw, rewrite the table
    python tools/results.py --table             # rewrite results/RESULTS.md from results/raw

A run's records are the JSON files ``aelab.course.Claims`` writes when ``AELAB_RESULTS_DIR`` is
set (``make test`` sets it for its full-size legs). ``results/raw/`` holds one record per notebook
and dataset; ``results/RESULTS.md`` is generated from it and nothing else (a unit test checks that).

Tolerance of ``--check``: |measured - committed| <= RTOL * max(1, |committed|), RTOL = 1e-6.
Training and every statistic are deterministic for a given torch build, processor (``aelab.device.cpu_model``:
an AMD EPYC and an Intel Xeon that both report AVX512 give different last digits), CPU kernel set
(``torch.backends.cpu.get_cpu_capability()``) and thread count, which each record stores: two
full runs on the same machine give the same values, so the bound only absorbs the last digits of
printing; a value that moves by more means the code or the data changed, and the table must be
regenerated (and the change explained in the commit). On a machine whose identity differs from the
record's, moved values are listed, not failed: its floating-point results differ from the first
training step on. A claim missing from the table, or from the run, fails everywhere.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "results" / "raw"
TABLE = ROOT / "results" / "RESULTS.md"
RTOL = 1e-6


def read_records(folder: Path, size: str = "full") -> dict[str, dict]:
    """``{"NN_name__dataset": record}`` for every record of that size in ``folder``."""
    return {path.name.rsplit("__", 1)[0]: json.loads(path.read_text())
            for path in sorted(folder.glob(f"*__{size}.json"))}


def claim_values(record: dict) -> dict[str, float]:
    return {claim["claim"]: claim["value"] for claim in record["claims"]}


def render_table(records: dict[str, dict]) -> str:
    rows = ["# Results at full size", "",
            "Every claim the notebooks assert, as measured by the full-size run of `make test` on the machine "
            "named under each heading. This file is generated from `results/raw/` by `make results`; "
            "`make test` fails when a claim's value moves from it (`tools/results.py` says by how much is "
            "allowed and why). Notebook prose that quotes a number quotes it from here, through a marker "
            "the tests check (docs/WRITING_NOTEBOOKS.md).", ""]
    for record in records.values():
        rows += [f"## {record['notebook']} on {record['dataset']}", "",
                 f"{record['date']}; {record['machine']}; {record.get('cpu', 'processor not recorded')}; "
                 f"torch {record['torch']}", "",
                 "| claim | measured | bound | holds |", "|---|---|---|---|"]
        for claim in record["claims"]:
            rows.append(f"| {claim['claim']} | {claim['value']:.4g} | {claim['bound']} | "
                        f"{'yes' if claim['holds'] else '**no**'} |")
        rows.append("")
    return "\n".join(rows)


def identity(record: dict) -> tuple:
    """What decides the floating-point results of a run: torch build, processor, CPU kernels, thread count.

    A record written before the processor was stored (no ``cpu``) matches no machine: its values are
    compared, not required to match, until ``make results`` rewrites it.
    """
    return record.get("torch"), record.get("cpu"), record.get("cpu_capability"), record.get("threads")


def compare(run: dict[str, dict], committed: dict[str, dict], rtol: float = RTOL) -> tuple[list[str], list[str]]:
    """(problems, notes): every way the run differs from the committed records, as sentences.

    A moved value is a problem when the run's machine matches the record's (``identity``); on
    another machine it is a note, since its floating-point results differ from the first step of
    training on. A claim missing from either side is always a problem.
    """
    problems, notes = [], []
    for key, record in run.items():
        if key not in committed:
            problems.append(f"{key}: not in results/raw (a notebook or dataset the table does not have)")
            continue
        old = claim_values(committed[key])
        same_machine = identity(record) == identity(committed[key])
        for claim, value in claim_values(record).items():
            if claim not in old:
                problems.append(f"{key}: claim missing from the table: {claim!r} (measured {value:.6g})")
            elif not abs(value - old[claim]) <= rtol * max(1.0, abs(old[claim])):
                (problems if same_machine else notes).append(
                    f"{key}: {claim!r} moved: committed {old[claim]:.8g}, measured {value:.8g}")
        for claim in old.keys() - claim_values(record).keys():
            problems.append(f"{key}: claim in the table but not measured by this run: {claim!r}")
    return problems, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", type=Path, metavar="RUN_DIR")
    action.add_argument("--update", type=Path, metavar="RUN_DIR")
    action.add_argument("--table", action="store_true")
    parser.add_argument("--datasets", nargs="+", default=None,
                        help="with --check: datasets the run must cover (a missing record fails)")
    args = parser.parse_args()
    if args.check:
        run = read_records(args.check)
        if not run:
            print(f"results: no full-size claim records in {args.check}", file=sys.stderr)
            return 1
        problems, notes = compare(run, read_records(RAW))
        if notes:
            print("results: this machine is not the one results/raw was measured on (torch, processor, CPU kernels, "
                  "threads: "
                  f"{identity(next(iter(run.values())))}), so values are compared, not required to match:\n  "
                  + "\n  ".join(notes))
        notebooks = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
        for dataset in args.datasets or []:
            problems += [f"{nb.stem}__{dataset}: no record from this run (did the notebook fail?)"
                         for nb in notebooks if f"{nb.stem}__{dataset}" not in run]
        if problems:
            print("results/RESULTS.md no longer matches this run:\n  " + "\n  ".join(problems), file=sys.stderr)
            machines = sorted({r["machine"] + ", torch " + r["torch"] for r in read_records(RAW).values()})
            print(f"The table was measured on: {'; '.join(machines)}.\nIf the change is intended, regenerate "
                  "the table with `make results` (or `python tools/results.py --update "
                  f"{args.check}` after a full `make test`) and commit results/.", file=sys.stderr)
            return 1
        print(f"results: {sum(len(r['claims']) for r in run.values())} claims in {len(run)} runs match "
              f"results/raw (relative tolerance {RTOL:g})")
        return 0
    if args.update:
        records = list(args.update.glob("*__full.json"))
        if not records:
            print(f"results: no full-size claim records in {args.update}", file=sys.stderr)
            return 1
        RAW.mkdir(parents=True, exist_ok=True)
        for path in records:
            shutil.copyfile(path, RAW / path.name)
        print(f"copied {len(records)} records into {RAW.relative_to(ROOT)}")
    TABLE.write_text(render_table(read_records(RAW)))
    print(f"wrote {TABLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
