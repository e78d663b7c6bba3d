import gzip
import struct

import numpy as np
import pytest
import torch


def write_idx(path, array, compress=False):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    payload = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    if compress:
        with gzip.open(path, "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)
    return path


def make_idx_folder(folder, n_train=60, n_test=20, size=28, compress=False, seed=0):
    """Four IDX files of random images (uint8) and labels (0-9) in ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, size, size)), compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n), compress)
    return folder


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Every test gets its own cache and data folders, no network, no inherited AELAB_* settings."""
    for var in ("AELAB_DEVICE", "AELAB_DATASET", "AELAB_FAST", "AELAB_RESULTS_DIR", "CI", "AELAB_CHECKS_STRICT",
                "NBGRADER_EXECUTION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AELAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AELAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AELAB_OFFLINE", "1")
    torch.manual_seed(0)


@pytest.fixture
def tiny_images():
    """200 smooth random 8x8 images in [0, 1], shape (200, 1, 8, 8)."""
    g = torch.Generator().manual_seed(0)
    base = torch.rand(200, 1, 4, 4, generator=g)
    return torch.nn.functional.interpolate(base, size=(8, 8), mode="bilinear", align_corners=False).clamp(0, 1)


@pytest.fixture
def strict_checks(monkeypatch):
    """Exercise checks raise ExerciseFailed on anything but a pass, as they do under nbgrader."""
    monkeypatch.setenv("AELAB_CHECKS_STRICT", "1")
