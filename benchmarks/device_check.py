"""Does aelab train the same on the GPU as on the CPU, and how fast? Run it when a GPU is at hand.

    python benchmarks/device_check.py [--n 10000] [--batch-size 256] [--device auto]

On CUDA or Apple MPS: trains the 784-1000-784 sigmoid autoencoder (BCE, Adam) for one epoch on
the device and on the CPU from the same initial weights, batch order and seed, and compares the
epoch's training and validation losses. They agree to a relative 1e-4: float32 matrix products
sum in another order on a GPU (TF32 is off by default in PyTorch), which moves a loss of about 100
in its fifth or sixth digit, while a wrong batch order or missing step moves it by whole percent.
Then prints the epoch time and samples/s of ``aelab.fit`` against the bare-tensor loop of
``benchmarks/trainer.py`` on the same device. Without CUDA or MPS it says so and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from trainer import loop_tensors, model_784_1000, sync  # noqa: E402

import aelab  # noqa: E402

TOLERANCE = 1e-4  # relative, on the epoch's mean losses (see the module docstring)


def images(n: int, dataset: str) -> tuple[torch.Tensor, str]:
    """28x28 images in [0, 1]: the dataset if it has them, else smooth random images (said)."""
    try:
        data = aelab.load(dataset, n_train=n, n_val=1, n_test=1, verbose=False)
        if data.image_shape == (1, 28, 28):
            return data.x_train, data.name
    except aelab.DatasetNotFoundError:
        pass
    g = torch.Generator().manual_seed(0)
    base = torch.rand(n, 1, 7, 7, generator=g)
    x = torch.nn.functional.interpolate(base, size=(28, 28), mode="bilinear", align_corners=False)
    return x.clamp(0, 1), "smooth random 28x28 images (no 28x28 dataset found)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dataset", default="auto")
    args = parser.parse_args()

    device = aelab.pick_device(args.device)
    if device.type not in ("cuda", "mps"):
        print(f"No CUDA or MPS device here ({aelab.describe_device(device)}): nothing to check.")
        return 0
    x, source = images(args.n, args.dataset)
    x_train, x_val = x[: len(x) * 9 // 10], x[len(x) * 9 // 10:]
    print(f"{aelab.describe_device(device)}; {source}: {len(x_train)} training, {len(x_val)} validation images; "
          f"784-1000-784, batch {args.batch_size}, 1 epoch; torch {torch.__version__}")

    histories, seconds = {}, {}
    for where in ("cpu", device):
        model = model_784_1000(0)
        sync(torch.device(where))
        start = time.perf_counter()
        histories[str(where)] = aelab.fit(model, (x_train, x_val), epochs=1, batch_size=args.batch_size, seed=0,
                                          device=where, progress=False)
        sync(torch.device(where))
        seconds[str(where)] = time.perf_counter() - start
    cpu, gpu = histories["cpu"], histories[str(device)]
    worst = 0.0
    for split in ("train", "val"):
        for term, values in getattr(cpu, split).items():
            a, b = values[0], getattr(gpu, split)[term][0]
            rel = abs(a - b) / max(abs(a), 1e-12)
            worst = max(worst, rel)
            print(f"  {split:5s} {term:15s} cpu {a:.7g}  {device.type} {b:.7g}  relative difference {rel:.2e}")
    ok = worst <= TOLERANCE
    print(f"losses agree within {TOLERANCE:g}: {'yes' if ok else 'NO'} (largest relative difference {worst:.2e})")

    loop_tensors(x_train[: 2 * args.batch_size], device, 1, args.batch_size)  # warm-up
    bare = loop_tensors(x_train, device, 1, args.batch_size)
    ours = len(x_train) / seconds[str(device)]
    print(f"epoch time on {device.type}: {seconds[str(device)]:.2f} s (aelab.fit, validation and checks included); "
          f"cpu {seconds['cpu']:.2f} s")
    print(f"samples/s on {device.type}: aelab.fit {ours:,.0f}, bare tensor loop {bare:,.0f}, ratio {ours / bare:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
