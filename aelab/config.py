"""The one place that reads aelab's environment variables, with one rule for yes/no values.

A yes/no variable is true for ``1``, ``true``, ``yes`` or ``on`` and false for ``0``, ``false``,
``no``, ``off`` or empty (any case, surrounding spaces ignored); anything else is an error that
names the variable, so ``AELAB_FAST=ture`` never silently runs the full size. The notebooks'
parameters cells read their settings here too::

    from aelab import config
    FAST = config.fast()          # AELAB_FAST: small, quick run (a developer option)
"""

from __future__ import annotations

import os
from pathlib import Path

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")


def parse_bool(value, name: str = "value") -> bool:
    """``value`` (a bool, or a string following the rule above) as a bool; ValueError otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{name}={value!r} is not a yes/no value: use one of {', '.join(TRUE)} "
                     f"or {', '.join(v for v in FALSE if v)}.")


def flag(name: str, default: bool = False) -> bool:
    """The environment variable ``name`` as a bool (the rule above); ``default`` when it is unset."""
    value = os.environ.get(name)
    return default if value is None else parse_bool(value, name)


def text(name: str, default: str) -> str:
    """The environment variable ``name``, stripped and lower-cased; ``default`` when unset or empty."""
    value = os.environ.get(name, "").strip().lower()
    return value or default


def path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else default


def fast() -> bool:
    """``AELAB_FAST``: the small, quick run."""
    return flag("AELAB_FAST")


def dataset() -> str:
    """``AELAB_DATASET``: mnist, fashion-mnist, digits or auto."""
    return text("AELAB_DATASET", "auto")


def device() -> str:
    """``AELAB_DEVICE``: auto, cpu, cuda, cuda:N or mps."""
    return text("AELAB_DEVICE", "auto")


def offline() -> bool:
    """``AELAB_OFFLINE``: never try to download."""
    return flag("AELAB_OFFLINE")


def ci() -> bool:
    """``CI``: running under continuous integration."""
    return flag("CI")


def data_dir() -> Path:
    """``AELAB_DATA_DIR``, else ``~/.cache/aelab/data``."""
    return path("AELAB_DATA_DIR", Path.home() / ".cache" / "aelab" / "data")


def cache_dir() -> Path:
    """``AELAB_CACHE_DIR``, else ``~/.cache/aelab/checkpoints``."""
    return path("AELAB_CACHE_DIR", Path.home() / ".cache" / "aelab" / "checkpoints")


def results_dir() -> Path | None:
    """``AELAB_RESULTS_DIR``, or None when unset."""
    value = os.environ.get("AELAB_RESULTS_DIR", "").strip()
    return Path(value).expanduser() if value else None
