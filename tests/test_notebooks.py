"""The conventions of docs/WRITING_NOTEBOOKS.md that a machine can check, over every course notebook."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def _code(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 8


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_reads_the_fast_switch(path):
    tagged = [c for c in _code(path) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: needs exactly one code cell tagged 'parameters', has {len(tagged)}"
    assert "FAST = config.fast()" in tagged[0].source, \
        f"{path.name}: parameters cell must read AELAB_FAST through aelab.config (FAST = config.fast())"


# Explicit state (docs/WRITING_NOTEBOOKS.md): aelab.config is the one reader of the environment, seeds
# are arguments (builders' and fit's seed=, a torch.Generator for a notebook's own draws, aelab.seeded
# for a composite build), and models are reached by their named parts, never by a layer's index.
IMPLICIT_STATE = {
    "reads the environment itself (use aelab.config)": re.compile(r"\bos\.environ|\bgetenv\("),
    "seeds torch's global generator (pass seed= or a torch.Generator)":
        re.compile(r"(?<!Generator\(\)\.)\bmanual_seed\(|\bseed_everything\("),
    "reaches into a layer by index (use model.filters, first_layer, code_layer, output_layer, ...)":
        re.compile(r"\b(?:encoder|decoder)\s*\[\s*-?\d*\s*:?\s*-?\d*\s*\]"),
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_implicit_state_in_notebooks(path):
    found = [f"{what}: {line.strip()}" for c in _code(path) for line in c.source.splitlines()
             for what, pattern in IMPLICIT_STATE.items() if pattern.search(line)]
    assert not found, f"{path.name}:\n" + "\n".join(found)


@pytest.mark.parametrize("line, caught", [
    ("FAST = os.environ.get('AELAB_FAST')", True), ("torch.manual_seed(SEED)", True),
    ("aelab.seed_everything(0)", True), ("w = model.encoder[1].weight", True), ("h = ae.encoder[:3](x)", True),
    ("g = torch.Generator().manual_seed(SEED)", False), ("w = model.filters", False),
    ("x = torch.randn(3, generator=g)", False), ("FAST = config.fast()", False)])
def test_the_implicit_state_patterns(line, caught):
    assert any(p.search(line) for p in IMPLICIT_STATE.values()) is caught


# interact/interactive/Output capture figures in an Output widget, which can hang headless execution.
OUTPUT_WIDGET = re.compile(r"\binteract(?:ive)?\s*\(|@\s*(?:widgets\.)?interact\b|\bOutput\s*\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sliders_go_through_viz_explore(path):
    offending = [c.source.splitlines()[0] for c in _code(path) if OUTPUT_WIDGET.search(c.source)]
    assert not offending, f"{path.name}: use aelab.viz.explore instead of interact/Output widgets in {offending}"


def test_the_output_widget_pattern_catches_the_usual_spellings():
    spellings = ["widgets.interact(f, k=[1, 2])", "interactive(f, x=1)", "@widgets.interact", "out = widgets.Output()"]
    for source in spellings:
        assert OUTPUT_WIDGET.search(source), source
    assert not OUTPUT_WIDGET.search("viz.explore(draw, k=[1, 2])  # interactive view")
