"""Build an MNIST-format folder from the real MNIST test split, for offline checks on real digits.

    python tools/build_mnist_subset.py SOURCE_DIR OUT_DIR [--train 8000]

SOURCE_DIR holds t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (MNIST's test split,
10,000 digits). OUT_DIR/MNIST/raw/ receives the four uncompressed IDX files torchvision's
``MNIST(root=OUT_DIR, download=False)`` reads: the first ``--train`` digits as the training split
and the rest as the test split. Exits 0 without writing anything when SOURCE_DIR is absent, so
that the MNIST leg of the tests skips cleanly in a user's clone.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aelab.data import read_idx  # noqa: E402

MD5 = {"t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
       "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (magic 0x0008 + ndim, then big-endian dimensions)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    with open(path, "wb") as handle:
        handle.write(bytes([0, 0, 0x08, array.ndim]))
        handle.write(struct.pack(f">{array.ndim}I", *array.shape))
        handle.write(array.tobytes())


def build(source: Path, out: Path, n_train: int) -> Path:
    for name, digest in MD5.items():
        actual = hashlib.md5((source / name).read_bytes()).hexdigest()
        if actual != digest:
            raise SystemExit(f"{source / name}: md5 {actual} differs from MNIST's {digest}.")
    images = read_idx(source / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(source / "t10k-labels-idx1-ubyte.gz")
    if not 0 < n_train < len(images):
        raise SystemExit(f"--train must be between 1 and {len(images) - 1}.")
    raw = out / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    write_idx(raw / "train-images-idx3-ubyte", images[:n_train])
    write_idx(raw / "train-labels-idx1-ubyte", labels[:n_train])
    write_idx(raw / "t10k-images-idx3-ubyte", images[n_train:])
    write_idx(raw / "t10k-labels-idx1-ubyte", labels[n_train:])
    return raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--train", type=int, default=8000)
    args = parser.parse_args()
    if not all((args.source / name).is_file() for name in MD5):
        print(f"No MNIST test split at {args.source}: skipping the MNIST subset.")
        return 0
    raw = build(args.source, args.out, args.train)
    print(f"Wrote an MNIST-format folder with {args.train} training and {10000 - args.train} test digits to {raw}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
