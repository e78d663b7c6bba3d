"""The checkpoint cache: re-running a notebook loads what it trained before instead of retraining.

An entry is one file ``<cache dir>/<name>.pt`` holding the trained weights, the optimizer state,
the History and the key: a hash of everything that determines the result (the model and its
initial weights, the data, the training settings and aelab's version). A different key means a
different experiment, so the entry is retrained. Files are written atomically and read with
``torch.load(weights_only=True)``, which never runs code from the file.

From a shell: ``python -m aelab.cache list`` and ``python -m aelab.cache clear [NAME ...]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import torch

FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def cache_dir() -> Path:
    """``AELAB_CACHE_DIR`` if set, else ``~/.cache/aelab/checkpoints``."""
    env = os.environ.get("AELAB_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "aelab" / "checkpoints"


def entry_path(name: str) -> Path:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"cache name {name!r} must be letters, digits, '_', '-' or '.', e.g. '03_sparse_beta3'.")
    return cache_dir() / f"{name}.pt"


def tensor_digest(*tensors: torch.Tensor) -> str:
    """A short hash of tensors' shapes and bytes (CPU copies are hashed)."""
    h = hashlib.sha256()
    for t in tensors:
        t = t.detach().to("cpu").contiguous()
        h.update(str((tuple(t.shape), str(t.dtype))).encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


def make_key(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:24]


def save(name: str, payload: dict) -> Path:
    """Write ``payload`` to the entry atomically: a crash mid-write leaves the old file intact."""
    path = entry_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, **payload}, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _changed(old: dict, new: dict, prefix: str = "") -> list[str]:
    keys = sorted(set(old) | set(new))
    out = []
    for k in keys:
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _changed(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}")
    return out


def load(name: str, key: str, config: dict) -> dict | None:
    """The payload stored under ``name`` if its key matches, else None (saying why on stderr).

    A corrupt file is moved aside to ``<name>.pt.corrupt`` and reported, never raised.
    """
    path = entry_path(name)
    if not path.exists():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT or "state_dict" not in payload:
            raise ValueError("not an aelab checkpoint of this version")
    except Exception as error:  # noqa: BLE001 - any unreadable file is handled the same way
        aside = path.with_suffix(".pt.corrupt")
        os.replace(path, aside)
        print(f"aelab cache: checkpoint {path} is unreadable ({type(error).__name__}: {error}); "
              f"moved it to {aside.name} and training again.", file=sys.stderr)
        return None
    if payload.get("key") != key:
        try:
            changed = ", ".join(_changed(json.loads(payload.get("config", "{}")), config)) or "unknown"
        except (TypeError, ValueError):
            changed = "unknown"
        print(f"aelab cache: '{name}' was trained with other settings (changed: {changed}); training again.",
              file=sys.stderr)
        return None
    return payload


def entries() -> list[dict]:
    """One dict per cache entry: name, size in MB, complete or partial, epochs."""
    rows = []
    for path in sorted(cache_dir().glob("*.pt")):
        row = {"name": path.stem, "MB": round(path.stat().st_size / 2**20, 2)}
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            row["complete"] = bool(payload.get("complete"))
            row["epochs"] = len(payload.get("history", {}).get("train", {}).get("loss", []))
        except Exception:  # noqa: BLE001
            row["complete"], row["epochs"] = "unreadable", None
        rows.append(row)
    return rows


def show() -> None:
    """Print the cache's entries."""
    rows = entries()
    print(f"aelab cache at {cache_dir()}: {len(rows)} entries")
    for row in rows:
        state = "complete" if row["complete"] is True else ("partial" if row["complete"] is False else row["complete"])
        print(f"  {row['name']:<40} {row['MB']:>8.2f} MB  {state}, {row['epochs']} epochs")


def clear(*names: str) -> int:
    """Delete the named entries (all entries if none is named); return how many files were removed."""
    paths = [entry_path(n) for n in names] if names else list(cache_dir().glob("*.pt*"))
    removed = 0
    for path in paths:
        if path.exists():
            path.unlink()
            removed += 1
    return removed


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("list", "clear"):
        print("usage: python -m aelab.cache list | clear [NAME ...]", file=sys.stderr)
        return 2
    if argv[0] == "list":
        show()
    else:
        print(f"removed {clear(*argv[1:])} file(s) from {cache_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
