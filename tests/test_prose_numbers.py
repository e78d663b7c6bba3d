"""No number in a notebook's prose is hand-copied from a run (docs/WRITING_NOTEBOOKS.md, "Numbers in the prose").

A measured value that a markdown cell states carries a marker right after it,
``0.084°<!--result: fashion-mnist | claim text-->``, and must equal that claim's value in
``results/raw`` to the digits written (``%`` after the number: the value times 100). A number
quoted from a paper carries ``<!--quoted: where from-->``. Every other decimal or percentage in the
prose must be a setting or a constant written as math (``$q = 0.5$``) or code (`` `lr=1e-3` ``),
or point at a print ("the print above"): a bare decimal in the text fails this test.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))

NUMBER = r"[-−]?\d+(?:[.,]\d{3})*(?:\.\d+)?"
MARKED = re.compile(rf"({NUMBER})\s*(%|°| ?px| ?dB| ?nats?| ?s)?\**\s*<!--\s*(result|quoted):\s*(.*?)\s*-->", re.S)
# What is not prose: heading numbers, math, inline and fenced code, links' targets, HTML comments and tags.
NOT_PROSE = re.compile(r"^#{1,6}\s*[\d.]+|\$\$.*?\$\$|\$[^$\n]+\$|```.*?```|`[^`]*`|\]\([^)]*\)|<!--.*?-->|<[^>]*>|https?://\S+",
                       re.S | re.M)
# Decimals and percentages; section numbers, versions and identifiers (7.3, 12.1.4, arXiv 1312.5663) are not values.
BARE = re.compile(r"(?<![\w.])(\d+\.\d+|\d+(?:\.\d+)?\s?%)(?![\w.]*\d)")
NOT_A_VALUE = re.compile(r"(section|sections|§|exercise|exercises|equation|eq\.|chapter|figure|fig\.|table|"
                         r"arxiv:?|version|v|python|torch|slide|slides|part)\s*$", re.I)


def _markdown(path):
    return [(i, c.source) for i, c in enumerate(nbformat.read(path, as_version=4).cells) if c.cell_type == "markdown"]


def _committed():
    records = {}
    for path in (ROOT / "results" / "raw").glob("*__full.json"):
        record = json.loads(path.read_text())
        records[(record["notebook"], record["dataset"])] = {c["claim"]: c["value"] for c in record["claims"]}
    return records


def _matches(written: str, unit: str | None, value: float) -> bool:
    text = written.replace("−", "-").replace(",", "")
    decimals = len(text.split(".")[1]) if "." in text else 0
    shown = float(text)
    if unit == "%":
        value *= 100
    return abs(shown - value) <= 0.5 * 10 ** -decimals + 1e-12


def bare_numbers(source: str) -> list[str]:
    """The decimals and percentages of a markdown cell that neither a marker nor math/code accounts for."""
    text = MARKED.sub(" ", source)
    text = NOT_PROSE.sub(" ", text)
    return [m.group(1) for m in BARE.finditer(text) if not NOT_A_VALUE.search(text[max(0, m.start() - 12):m.start()])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_measured_number_in_the_prose_is_tied_to_the_results(path):
    committed, problems = _committed(), []
    for cell, source in _markdown(path):
        for written, unit, kind, what in MARKED.findall(source):
            if kind == "quoted":
                if not what.strip():
                    problems.append(f"cell {cell}: {written}: a quoted number names its source")
                continue
            dataset, _, claim = (part.strip() for part in what.partition("|"))
            values = committed.get((path.stem, dataset))
            if values is None or claim not in values:
                problems.append(f"cell {cell}: {written}{unit}: no claim {claim!r} on {dataset!r} in results/raw")
            elif not _matches(written, unit or None, values[claim]):
                problems.append(f"cell {cell}: the text says {written}{unit}, results/raw says {values[claim]:.6g} "
                                f"for {claim!r} on {dataset}")
        problems += [f"cell {cell}: bare number {n!r} (mark it as a result, write it as math/code, or point "
                     "at the print)" for n in bare_numbers(source)]
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_the_prose_rules_catch_what_they_should():
    assert bare_numbers("the gap is 0.22 on MNIST") == ["0.22"]
    assert bare_numbers("about 3 % of pixels") == ["3 %"]
    assert bare_numbers("with $q = 0.5$ and `lr=1e-3`, see section 7.3 and Bishop 12.1.4") == []
    assert bare_numbers("the gap is 0.22<!--result: mnist | gap--> on MNIST") == []
    assert bare_numbers("[paper](https://arxiv.org/abs/1312.5663)") == []
    assert bare_numbers("### 7.1 · MLP against CNN") == []
    assert _matches("0.084", None, 0.0843) and not _matches("0.084", None, 0.0846)
    assert _matches("59", "%", 0.5912) and not _matches("59", "%", 0.5951)
    assert MARKED.findall("ratio **1.9**<!--result: fashion-mnist | ratio-->")[0][0] == "1.9"
