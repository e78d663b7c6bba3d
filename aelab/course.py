"""What every notebook does the same way: the setup cell, the size guard and the claim checks.

A claim is a sentence the notebook teaches together with a number measured on real data and the
bound it must respect. ``Claims.check`` prints the claim, the value and the bound, and asserts
it: claims of tier "fast" at every size, claims of tier "full" only at the full size (at the fast
size they are printed, marked as not asserted). With ``AELAB_RESULTS_DIR`` set, every claim is
also recorded there, and ``tools/results_table.py`` turns the records into the results table.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import textwrap

import torch

from . import config
from .data import load
from .device import cpu_model, describe_device, pick_device
from .train import seed_everything


def is_fast() -> bool:
    """True when ``AELAB_FAST`` asks for the small, quick run (see :mod:`aelab.config`)."""
    return config.fast()


def setup(seed: int = 0, device: str = "auto") -> torch.device:
    """Seed everything, print versions and the device; return the device to train on."""
    import matplotlib
    import sklearn
    import torchvision

    from . import __version__

    seed_everything(seed)
    # Sigmoid units that saturate produce denormal floats, which make CPU matrix products
    # several times slower; flushing them to zero changes no result the course asserts.
    torch.set_flush_denormal(True)
    chosen = pick_device(device)
    print(f"Python {platform.python_version()} | torch {torch.__version__} | torchvision {torchvision.__version__}")
    print(f"scikit-learn {sklearn.__version__} | matplotlib {matplotlib.__version__} | aelab {__version__}")
    print(f"Device: {describe_device(chosen)} | seed {seed} | fast run: {is_fast()}")
    return chosen


def load_dataset(name: str, supported=("mnist", "fashion-mnist", "digits"), **sizes):
    """``aelab.load`` that refuses datasets this notebook cannot teach its point on, and takes all of a
    split that is smaller than the size asked for (a small MNIST folder at the full size)."""
    data = load(name, allow_fewer=True, **sizes)
    if data.name not in supported:
        raise RuntimeError(f"This notebook supports {', '.join(supported)}, not {data.name!r} "
                           f"({data.source}). Set AELAB_DATASET to one of the supported datasets.")
    return data


WIDTH = 100  # characters: what a JupyterLab output area shows in one line on a laptop, file browser open


def fit_width(line: str, keep: str = "") -> str:
    """``line`` wrapped at spaces to :data:`WIDTH` characters, later lines indented by two; the
    substring ``keep`` (a value with its bound) is never split across lines."""
    if len(line) <= WIDTH:
        return line
    glued = keep.replace(" ", "\u00a0")   # textwrap does not break at a no-break space
    text = line.replace(keep, glued) if keep else line
    wrapped = textwrap.fill(text, WIDTH, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False)
    return wrapped.replace("\u00a0", " ") if keep else wrapped


class Claims:
    """The numbered claims of one notebook run (see the module docstring)."""

    def __init__(self, notebook: str, dataset: str, fast: bool):
        self.notebook, self.dataset, self.fast = notebook, dataset, fast
        self.records: list[dict] = []

    def check(self, claim: str, value: float, *, below: float | None = None, above: float | None = None,
              tier: str = "fast", note: str = "") -> None:
        """Check ``above < value < below`` (either bound may be omitted) and record it.

        ``tier="fast"`` asserts at every size; ``tier="full"`` only at the full size.
        Returns None, so that a claim as the last line of a cell prints its line once and no
        ``Out[n]: True`` echo; whether it held is ``claims.held(claim)`` (and in ``claims.records``).
        """
        if tier not in ("fast", "full"):
            raise ValueError("tier must be 'fast' or 'full'.")
        if below is None and above is None:
            raise ValueError("a claim needs a bound: below=..., above=... or both.")
        value = float(value)
        below = None if below is None else float(below)  # numpy bounds would make `holds` a numpy bool,
        above = None if above is None else float(above)  # which the JSON record cannot hold
        holds = value == value and (below is None or value < below) and (above is None or value > above)
        bound = " and ".join(b for b in (f"> {above:g}" if above is not None else "",
                                         f"< {below:g}" if below is not None else "") if b)
        asserted = tier == "fast" or not self.fast
        mark = ("✔" if holds else "✘") if asserted else ("·" if holds else "!")
        result = f"{value:.4g} (claim: {bound})"
        unasserted = "" if asserted else " [full-size claim: not asserted at the fast size]"
        print(fit_width(f"{mark} {claim}: {result}{unasserted}" + (f"  {note}" if note else ""), keep=result))
        self.records.append({"claim": claim, "value": value, "bound": bound, "tier": tier, "holds": holds,
                             "asserted": asserted})
        self._save()
        if asserted and not holds:
            raise AssertionError(f"Claim does not hold on {self.dataset}: {claim}: measured {value:.6g}, "
                                 f"expected {bound}.")

    def held(self, claim: str) -> bool:
        """Whether the claim checked last under this sentence held (KeyError if never checked)."""
        for record in reversed(self.records):
            if record["claim"] == claim:
                return record["holds"]
        raise KeyError(f"no claim {claim!r} was checked in this run")

    def _save(self) -> None:
        folder = config.results_dir()
        if folder is None:
            return
        path = folder / f"{self.notebook}__{self.dataset}__{'fast' if self.fast else 'full'}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"notebook": self.notebook, "dataset": self.dataset, "size": "fast" if self.fast else "full",
                "date": _dt.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"{describe_device()}", "python": sys.version.split()[0], "torch": torch.__version__,
                # what decides the floating-point results: tools/results.py compares strictly only when these match
                "cpu": cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                "threads": torch.get_num_threads()}
        path.write_text(json.dumps({**meta, "claims": self.records}, indent=1))
