"""The checkpoint cache: re-running a notebook loads what it trained before instead of retraining.

An entry is one file ``<cache dir>/<name>.pt`` holding the trained weights, the optimizer state,
the History and the key: a hash of everything that determines the result (the model and its
initial weights, the data, the training settings and aelab's version). A different key means a
different experiment, so the entry is retrained. The file is a header line with the SHA-256 of
its body, then the body that ``torch.save`` writes; it is written atomically and read with
``torch.load(weights_only=True)``, which never runs code from the file. A file whose bytes
changed, or that reads but is wrong, is moved aside and retrained. ``aelab.train.Checkpoint``
is what ``fit`` uses on top of these functions.

From a shell: ``python -m aelab.cache list`` and ``python -m aelab.cache clear [NAME ...]``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import torch

FORMAT = 2
_MAGIC = b"aelab-checkpoint"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TMP_EXTRA = len(".") + len(".") + 8 + len(".tmp")  # mkstemp's ".<name>.XXXXXXXX.tmp" beside the entry


class CorruptCheckpoint(ValueError):
    """A stored entry that cannot be trusted: unreadable, damaged bytes, or readable but wrong."""


def cache_dir() -> Path:
    """``AELAB_CACHE_DIR`` if set, else ``~/.cache/aelab/checkpoints``."""
    from . import config

    return config.cache_dir()


def entry_path(name: str) -> Path:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"cache name {name!r} must be letters, digits, '_', '-' or '.', e.g. '03_sparse_beta3'.")
    return cache_dir() / f"{name}.pt"


def _name_max(folder: Path) -> int:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def check_name(name: str) -> Path:
    """``entry_path(name)``, refusing a name the file system cannot store (before any training)."""
    path = entry_path(name)
    limit = _name_max(path.parent)
    if len(path.name.encode()) + _TMP_EXTRA > limit:
        raise ValueError(f"cache name {name!r} is {len(name)} characters; this file system stores names of at most "
                         f"{limit} bytes (with '.pt' and a temporary suffix): choose a name of at most "
                         f"{limit - _TMP_EXTRA - 3} characters.")
    return path


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


def _encode(payload: dict) -> bytes:
    """A header line with the SHA-256 of the body, then the body as torch.save writes it."""
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **payload}, buffer)
    body = buffer.getvalue()
    return _MAGIC + b" %d sha256=%s\n" % (FORMAT, hashlib.sha256(body).hexdigest().encode()) + body


def _decode(raw: bytes) -> dict:
    header, _, body = raw.partition(b"\n")
    parts = header.split(b" ")
    if len(parts) != 3 or parts[0] != _MAGIC or not parts[2].startswith(b"sha256="):
        raise CorruptCheckpoint("not an aelab checkpoint of this version")
    if parts[1] != str(FORMAT).encode():
        raise CorruptCheckpoint(f"written in checkpoint format {parts[1].decode(errors='replace')}, "
                                f"this aelab reads {FORMAT}")
    if hashlib.sha256(body).hexdigest().encode() != parts[2][len(b"sha256="):]:
        raise CorruptCheckpoint("its bytes changed since it was written (checksum mismatch)")
    payload = torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or "state_dict" not in payload:
        raise CorruptCheckpoint("not an aelab checkpoint of this version")
    return payload


def save(name: str, payload: dict) -> Path:
    """Write ``payload`` to the entry atomically: a crash mid-write leaves the old file intact.

    Raises OSError when the folder cannot be written (read-only, full, a file in its place).
    """
    path = entry_path(name)
    data = _encode(payload)  # serialized first: a failure below is the file system's, an OSError
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
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


def move_aside(path: Path, reason: str) -> None:
    """Move a corrupt entry to ``<name>.pt.corrupt`` and say so; another process may have done it first."""
    aside = path.with_suffix(".pt.corrupt")
    try:
        os.replace(path, aside)
        where = f"moved it to {aside.name}"
    except FileNotFoundError:
        where = "another process already moved it aside"
    except OSError as error:
        where = f"could not move it aside ({error.strerror or error})"
    print(f"aelab cache: checkpoint {path} is unreadable ({reason}); {where}; training again.", file=sys.stderr)


def load(name: str, key: str, config: dict, check=None) -> dict | None:
    """The payload stored under ``name`` if its key matches, else None (saying why on stderr).

    ``check(payload)`` may raise :class:`CorruptCheckpoint` for a payload that reads but is wrong.
    A corrupt entry is moved aside to ``<name>.pt.corrupt`` and reported, never raised.
    """
    path = entry_path(name)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        print(f"aelab cache: cannot read {path} ({error.strerror or error}); training again.", file=sys.stderr)
        return None
    try:
        payload = _decode(raw)
    except Exception as error:  # noqa: BLE001 - any unreadable file is handled the same way
        move_aside(path, f"{type(error).__name__}: {error}")
        return None
    if payload.get("key") != key:
        try:
            changed = ", ".join(_changed(json.loads(payload.get("config", "{}")), config)) or "unknown"
        except (TypeError, ValueError):
            changed = "unknown"
        print(f"aelab cache: '{name}' was trained with other settings (changed: {changed}); training again.",
              file=sys.stderr)
        return None
    if check is not None:
        try:
            check(payload)
        except CorruptCheckpoint as error:
            move_aside(path, f"readable but wrong: {error}")
            return None
    return payload


def entries() -> list[dict]:
    """One dict per cache entry: name, size in MB, complete or partial, epochs."""
    rows = []
    for path in sorted(cache_dir().glob("*.pt")):
        row = {"name": path.stem, "MB": round(path.stat().st_size / 2**20, 2)}
        try:
            payload = _decode(path.read_bytes())
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
