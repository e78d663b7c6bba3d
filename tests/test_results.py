"""results/: the committed table is generated from results/raw, and the run check fails as it says."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("results_tool", ROOT / "tools" / "results.py")
results = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(results)


def _record(values, **identity):
    base = {"notebook": "99_demo", "dataset": "digits", "torch": "2.14.1",
            "cpu": "GenuineIntel family 6 model 143 (Xeon)", "cpu_capability": "AVX512", "threads": 2}
    return {**base, **identity, "claims": [{"claim": c, "value": v} for c, v in values.items()]}


def test_the_committed_table_is_generated_from_results_raw():
    expected = results.render_table(results.read_records(results.RAW))
    assert results.TABLE.read_text() == expected, "results/RESULTS.md is stale: run `python tools/results.py --table`"


def test_every_notebook_has_full_size_records_on_both_datasets():
    records = results.read_records(results.RAW)
    missing = [f"{nb.stem} on {ds}" for nb in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
               for ds in ("fashion-mnist", "mnist") if f"{nb.stem}__{ds}" not in records]
    assert not missing, f"no full-size results for: {', '.join(missing)} (make results)"


def test_a_run_matching_the_table_passes():
    committed = {"99_demo__digits": _record({"gap": 0.25, "ratio": 1.9})}
    run = {"99_demo__digits": _record({"gap": 0.25 + 1e-9, "ratio": 1.9})}
    assert results.compare(run, committed) == ([], [])


def test_a_moved_value_a_new_claim_and_a_lost_claim_fail():
    committed = {"99_demo__digits": _record({"gap": 0.25, "ratio": 1.9})}
    run = {"99_demo__digits": _record({"gap": 0.2501, "new": 3.0})}
    problems, _ = results.compare(run, committed)
    assert any("'gap' moved" in p for p in problems)
    assert any("missing from the table: 'new'" in p for p in problems)
    assert any("not measured by this run: 'ratio'" in p for p in problems)


def test_on_another_machine_a_moved_value_is_a_note_and_a_missing_claim_still_fails():
    committed = {"99_demo__digits": _record({"gap": 0.25, "ratio": 1.9})}
    run = {"99_demo__digits": _record({"gap": 0.2501, "ratio": 1.9, "new": 1.0}, cpu_capability="AVX2")}
    problems, notes = results.compare(run, committed)
    assert [n for n in notes if "'gap' moved" in n] and not [p for p in problems if "moved" in p]
    assert any("missing from the table: 'new'" in p for p in problems)


def test_another_processor_with_the_same_kernels_is_another_machine():
    committed = {"99_demo__digits": _record({"gap": 0.25})}
    run = {"99_demo__digits": _record({"gap": 0.2501}, cpu="AuthenticAMD family 25 model 17 (AMD EPYC)")}
    problems, notes = results.compare(run, committed)
    assert not problems and [n for n in notes if "'gap' moved" in n]


def test_a_record_without_the_processor_matches_no_machine():
    old = _record({"gap": 0.25})
    del old["cpu"]
    problems, notes = results.compare({"99_demo__digits": _record({"gap": 0.2501})}, {"99_demo__digits": old})
    assert not problems and notes


def test_the_processor_is_recorded():
    from aelab.device import cpu_model
    assert isinstance(cpu_model(), str) and cpu_model()
