"""Datasets as in-memory tensors: MNIST, Fashion-MNIST and scikit-learn's 8x8 digits.

Every image set is returned as float32 tensors in [0, 1] of shape (N, 1, H, W), with int64
labels, so a training loop can move it to the device once and batch it by index.

Where the 28x28 sets come from, in order:

1. the data directory (argument ``data_dir``, else ``AELAB_DATA_DIR``, else ``~/.cache/aelab/data``)
   in torchvision's layout (``<dir>/MNIST/raw/``, ``<dir>/FashionMNIST/raw/``);
2. a system copy (Debian's ``dataset-fashion-mnist`` installs ``/usr/share/datasets/fashion-mnist/``);
3. torchvision's download into the data directory, checksums verified, if the network answers
   within a few seconds (``AELAB_OFFLINE=1`` skips the attempt);
4. otherwise a ``DatasetNotFoundError`` naming the remedies.
"""

from __future__ import annotations

import gzip
import os
import socket
import struct
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch

from . import config

NAMES = ("mnist", "fashion-mnist", "digits")
AUTO_ORDER = NAMES
SYSTEM_DIRS = {"fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),)}
_TORCHVISION_CLASS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "digits": [str(i) for i in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}


class DatasetNotFoundError(FileNotFoundError):
    """No copy of the requested dataset could be found or downloaded."""


@dataclass(repr=False)
class Dataset:
    """Train / validation / test images and labels of one dataset, as tensors.

    Images have shape (N, C, H, W), dtype float32, values in [0, 1]; labels have shape (N,),
    dtype int64. ``source`` says where the data was read from.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        """Number of pixels of one image, C * H * W."""
        return int(np.prod(self.image_shape))

    def to(self, device) -> Dataset:
        """A copy with every tensor moved to ``device``."""
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in moved.items():
            if isinstance(value, torch.Tensor):
                moved[key] = value.to(device)
        return Dataset(**moved)

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        return (f"Dataset({self.name!r}: train {len(self.x_train)}, val {len(self.x_val)}, "
                f"test {len(self.x_test)}, images {c}x{h}x{w}, from {self.source})")


def default_data_dir() -> Path:
    """``AELAB_DATA_DIR`` if set, else ``~/.cache/aelab/data``."""
    return config.data_dir()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a numpy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DatasetNotFoundError(f"Cannot read IDX file {path}: {error}. Delete it and load again.") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DatasetNotFoundError(f"{path} is not an IDX file (bad magic number). Delete it and load again.")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    dtype, ndim = dtypes.get(raw[2]), raw[3]
    if dtype is None:
        raise DatasetNotFoundError(f"{path}: unknown IDX element type 0x{raw[2]:02x}.")
    if len(raw) < 4 + 4 * ndim:
        raise DatasetNotFoundError(f"{path} is truncated: its header is cut short ({len(raw)} bytes for a "
                                   f"{ndim}-dimensional IDX header). Delete it and load again.")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    if (len(raw) - 4 - 4 * ndim) % np.dtype(dtype).itemsize:
        raise DatasetNotFoundError(f"{path} is truncated: its length is not a whole number of values. "
                                   "Delete it and load again.")
    data = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DatasetNotFoundError(
            f"{path} is truncated: the header promises shape {shape} but the file holds {data.size} values. "
            "Delete it and load again.")
    return data.reshape(shape).copy()  # frombuffer is read-only; torch wants writable memory


_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx_folder(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Both splits from a folder of the four IDX files, or None if any is missing."""
    found = {split: tuple(_find(folder, stem) for stem in stems) for split, stems in _IDX_FILES.items()}
    if any(path is None for pair in found.values() for path in pair):
        return None
    splits = {split: (read_idx(images), read_idx(labels)) for split, (images, labels) in found.items()}
    for split, (images, labels) in splits.items():
        if labels.ndim != 1:
            raise DatasetNotFoundError(f"{folder}: the {split} labels file holds an array of shape {labels.shape}, "
                                       "not one label per image (images in place of labels?). Delete the folder "
                                       "and load again.")
        if images.ndim == 3 and images.shape[1:] != (28, 28):
            raise DatasetNotFoundError(f"{folder}: the {split} images are {images.shape[1]}x{images.shape[2]}, "
                                       "MNIST's are 28x28. Delete the folder and load again.")
        if len(labels) and (labels.min() < 0 or labels.max() > 9):
            raise DatasetNotFoundError(f"{folder}: the {split} labels range over {labels.min()}..{labels.max()}, "
                                       "not the classes 0-9. Delete the folder and load again.")
        if images.ndim != 3 or len(images) != len(labels):
            raise DatasetNotFoundError(f"{folder}: the {split} images {images.shape} and labels {labels.shape} "
                                       "do not match. Delete the folder and load again.")
    return splits


def _has_idx_files(folder: Path) -> bool:
    return all(_find(folder, stem) is not None for stems in _IDX_FILES.values() for stem in stems)


def _raw_folder(name: str, data_dir: Path) -> Path:
    return data_dir / _TORCHVISION_CLASS[name] / "raw"


_online_cache: dict[str, bool] = {}


def network_available(host: str, timeout: float = 3.0) -> bool:
    """Whether ``host`` accepts a connection on port 443 within ``timeout`` seconds."""
    if config.offline():
        return False
    if host not in _online_cache:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                _online_cache[host] = True
        except OSError:
            _online_cache[host] = False
    return _online_cache[host]


def _download(name: str, data_dir: Path) -> bool:
    """torchvision's download (checksums verified) into ``data_dir``; False when offline."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, _TORCHVISION_CLASS[name])
    host = urlparse(cls.mirrors[0]).hostname
    if not network_available(host):
        return False
    print(f"Downloading {name} into {data_dir} ...", file=sys.stderr)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)  # a stalled mirror must fail, not hang the notebook
    try:
        for train in (True, False):
            cls(str(data_dir), train=train, download=True)
    except Exception as error:  # noqa: BLE001 - any download failure gets the same remedy
        print(f"Download of {name} failed: {error}", file=sys.stderr)
        return False
    finally:
        socket.setdefaulttimeout(previous)
    return True


def _locate(name: str, data_dir: Path, download: bool):
    """(splits, source) for a 28x28 set, or None if no copy is found."""
    folder = _raw_folder(name, data_dir)
    splits = _read_idx_folder(folder)
    if splits is not None:
        return splits, str(folder)
    for system_dir in SYSTEM_DIRS.get(name, ()):
        splits = _read_idx_folder(system_dir)
        if splits is not None:
            return splits, f"{system_dir} (system copy)"
    if download and _download(name, data_dir):
        splits = _read_idx_folder(folder)
        if splits is not None:
            return splits, f"{folder} (downloaded)"
    return None


def _not_found(name: str, data_dir: Path) -> DatasetNotFoundError:
    remedies = [f"put the four IDX files (train-images-idx3-ubyte[.gz] ...) in {_raw_folder(name, data_dir)}",
                "or set AELAB_DATA_DIR to a folder that has them",
                "or connect to the internet so torchvision can download them"]
    if name == "fashion-mnist":
        remedies.insert(1, "or install Debian's copy: sudo apt-get install dataset-fashion-mnist")
    return DatasetNotFoundError(
        f"Dataset {name!r} was not found and could not be downloaded. To fix: " + "; ".join(remedies)
        + ". Or use load('digits'), which ships with scikit-learn.")


def _load_digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    # A fixed split: the first 1500 samples (shuffled below) for training, the rest for test.
    order = np.random.default_rng(0).permutation(len(images))
    train, test = order[:1500], order[1500:]
    return ({"train": (images[train], bunch.target[train]), "test": (images[test], bunch.target[test])},
            "scikit-learn load_digits (8x8)")


def _to_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(np.ascontiguousarray(images))
    x = x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
    return x.unsqueeze(1), torch.from_numpy(np.asarray(labels)).long()


def _check_size(label: str, value, available: int, allow_fewer: bool = False) -> int:
    if value is None:
        return available
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{label} must be a positive integer or None, got {value!r}.")
    if value > available:
        if not allow_fewer:
            raise ValueError(f"{label}={value} but only {available} images are available "
                             "(pass allow_fewer=True to take them all).")
        print(f"{label}={value} asked for, {available} available: using all {available}.")
        return available
    return int(value)


def load(name: str = "auto", *, n_train: int | None = None, n_val: int | None = None,
         n_test: int | None = None, seed: int = 0, data_dir: str | os.PathLike | None = None,
         download: bool = True, verbose: bool = True, allow_fewer: bool = False) -> Dataset:
    """Load ``"mnist"``, ``"fashion-mnist"``, ``"digits"`` or ``"auto"`` as a :class:`Dataset`.

    The validation set is carved from the training split. ``n_train``, ``n_val`` and ``n_test``
    pick seeded random subsets (None: all of it; ``n_val`` defaults to a tenth of the training
    split, at most 5000). A size larger than the split is an error, unless ``allow_fewer=True``:
    then all of the split is used and a line says so (the course's notebooks ask for full-size
    subsets that a small MNIST folder may not have). ``"auto"`` takes the first dataset available (mnist, fashion-mnist,
    digits) and prints which one and why.
    """
    if not isinstance(name, str) or name.lower() not in (*NAMES, "auto"):
        raise ValueError(f"Unknown dataset {name!r}. Choose one of {', '.join(NAMES)} or 'auto'.")
    name = name.lower()
    data_dir = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    if name == "auto":
        return _load_auto(data_dir=data_dir, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed,
                          download=download, verbose=verbose, allow_fewer=allow_fewer)
    if name == "digits":
        splits, source = _load_digits()
    else:
        found = _locate(name, data_dir, download)
        if found is None:
            raise _not_found(name, data_dir)
        splits, source = found

    x_all, y_all = _to_tensors(*splits["train"])
    x_test, y_test = _to_tensors(*splits["test"])
    generator = torch.Generator().manual_seed(seed)
    n_val_default = min(5000, len(x_all) // 10)
    n_val = _check_size("n_val", n_val, len(x_all) - 1, allow_fewer) if n_val is not None else n_val_default
    n_train = _check_size("n_train", n_train, len(x_all) - n_val, allow_fewer)
    n_test = _check_size("n_test", n_test, len(x_test), allow_fewer)
    order = torch.randperm(len(x_all), generator=generator)
    val_idx, train_idx = order[:n_val], order[n_val:n_val + n_train]
    test_idx = torch.randperm(len(x_test), generator=generator)[:n_test]
    data = Dataset(name=name, x_train=x_all[train_idx], y_train=y_all[train_idx],
                   x_val=x_all[val_idx], y_val=y_all[val_idx],
                   x_test=x_test[test_idx], y_test=y_test[test_idx],
                   classes=CLASS_NAMES[name], source=source)
    if verbose:
        c, h, w = data.image_shape
        print(f"Loaded {name}: train {len(data.x_train)}, val {len(data.x_val)}, test {len(data.x_test)}, "
              f"images {c}x{h}x{w}\n  from {source}")
    return data


def _load_auto(data_dir: Path, download: bool, verbose: bool, **sizes) -> Dataset:
    reasons = []
    for name in ("mnist", "fashion-mnist"):
        if any(_has_idx_files(folder) for folder in (_raw_folder(name, data_dir), *SYSTEM_DIRS.get(name, ()))):
            break
        reasons.append(f"{name} is not in {data_dir}" + (" or a system folder" if name in SYSTEM_DIRS else ""))
    else:
        name = None
        if download:
            for candidate in ("mnist", "fashion-mnist"):
                if _download(candidate, data_dir):
                    name = candidate
                    break
            else:
                reasons.append("the download failed or the network is unreachable")
        name = name or "digits"
    if verbose:
        why = f" ({'; '.join(reasons)})" if reasons else ""
        print(f"Dataset 'auto' -> {name}{why}")
    return load(name, data_dir=data_dir, download=download, verbose=verbose, **sizes)
