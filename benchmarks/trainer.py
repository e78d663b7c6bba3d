"""Throughput of aelab.fit against two plain PyTorch loops, on the same data in the same process.

    python benchmarks/trainer.py [--n 10000] [--epochs 2] [--batch-sizes 64 256] [--device auto]

Model: the 784-1000-784 sigmoid autoencoder with BCE and Adam (lr 1e-3). Baselines:
  (a) torchvision's dataset class with ToTensor and a DataLoader (the textbook loop: PIL image
      and tensor conversion per sample, collation per batch);
  (b) a bare loop over tensors already in memory on the device, mini-batches sliced by index.
Prints samples/s of each and the ratios aelab/(a) and aelab/(b). Targets on 2 CPU cores:
aelab >= 2.5x (a) and >= 0.8x (b). Ratios, not absolute numbers, are what carries between machines.

Beside them, the physical limit: the six matrix products of one training step at the same shapes
(forward x W1^T and h W2^T; backward dY W2, dY^T h, dH^T x and dH W1), timed alone in the same
process, give the samples/s that no loop can beat; "fit/GEMM" is the fraction of it fit reaches.
That bound counts a GEMM no trainer runs: the input needs no gradient, so autograd skips dx = dH W1.
The tighter floor ("GEMM+Adam") is what one step of this model cannot avoid: the five GEMMs it does
run plus the fused Adam update of its 1.57 M parameters (memory-bound: it reads and writes the
weights, gradients and both moments), timed the same way; "fit/floor" is the fraction of it fit
reaches. What fit spends beyond the floor is the element-wise work (sigmoid, BCE, their gradients)
and Python's dispatch of about forty small operations per step.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import aelab  # noqa: E402
from tools.build_mnist_subset import write_idx  # noqa: E402


def model_784_1000(seed: int) -> aelab.Autoencoder:
    return aelab.mlp_autoencoder((1, 28, 28), code=1000, seed=seed)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def plain_step(model: nn.Module, opt: torch.optim.Optimizer, xb: torch.Tensor) -> None:
    """One textbook training step: BCE summed over pixels, averaged over the batch, plain Adam."""
    loss = F.binary_cross_entropy_with_logits(model.decoder(model.encoder(xb)), xb,
                                              reduction="none").flatten(1).sum(1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


def loop_dataloader(x_uint8: torch.Tensor, y: torch.Tensor, device, epochs: int, batch_size: int) -> float:
    """(a) torchvision FashionMNIST class + ToTensor + DataLoader, the usual tutorial loop."""
    import torchvision
    from torch.utils.data import DataLoader

    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        write_idx(raw / "train-images-idx3-ubyte", x_uint8.numpy())
        write_idx(raw / "train-labels-idx1-ubyte", y.numpy())
        write_idx(raw / "t10k-images-idx3-ubyte", x_uint8[:10].numpy())
        write_idx(raw / "t10k-labels-idx1-ubyte", y[:10].numpy())
        dataset = torchvision.datasets.FashionMNIST(root, train=True, transform=torchvision.transforms.ToTensor())
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
        model = model_784_1000(0).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        sync(device)
        start = time.perf_counter()
        for _ in range(epochs):
            for xb, _ in loader:
                xb = xb.to(device)
                plain_step(model, opt, xb)
        sync(device)
        return epochs * len(dataset) / (time.perf_counter() - start)


def loop_tensors(x: torch.Tensor, device, epochs: int, batch_size: int) -> float:
    """(b) the bare loop: tensors on the device, a permutation per epoch, slices by index."""
    x = x.to(device)
    model: nn.Module = model_784_1000(0).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), device=device)
        for i in range(0, len(x), batch_size):
            xb = x[order[i:i + batch_size]]
            plain_step(model, opt, xb)
    sync(device)
    return epochs * len(x) / (time.perf_counter() - start)


def step_limit(device, batch_size: int, *, with_dx: bool, with_adam: bool, repeats: int = 20) -> float:
    """Samples/s if a training step of the 784-1000-784 model (float32, on ``device``) cost only its
    GEMMs: the forward x W1^T and h W2^T, the backward dY W2, dY^T h and dH^T x, plus dx = dH W1 if
    ``with_dx`` (the GEMM bound's sixth, which no trainer runs) and the fused Adam update of the
    model's 1.57 M parameters if ``with_adam`` (the floor)."""
    g = torch.Generator().manual_seed(0)
    x, w1, w2 = (torch.randn(*shape, generator=g).to(device) for shape in
                 ((batch_size, 784), (1000, 784), (784, 1000)))
    h, dy = torch.randn(batch_size, 1000, generator=g).to(device), torch.randn(batch_size, 784, generator=g).to(device)
    opt = None
    if with_adam:
        shapes = ((1000, 784), (1000,), (784, 1000), (784,))
        params = [nn.Parameter(torch.zeros(shape, device=device)) for shape in shapes]
        for p in params:
            p.grad = torch.randn(p.shape, generator=g).to(device) * 1e-3
        opt = aelab.train._make_optimizer("adam", nn.ParameterList(params), 1e-3, 0.0)

    def step():
        torch.mm(x, w1.t()), torch.mm(h, w2.t())                   # forward
        dh = torch.mm(dy, w2)                                        # backward through the decoder
        torch.mm(dy.t(), h), torch.mm(dh.t(), x)                     # dW2, dW1
        if with_dx:
            torch.mm(dh, w1)
        if opt is not None:
            opt.step()

    for _ in range(3):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    sync(device)
    return repeats * batch_size / (time.perf_counter() - start)


def loop_aelab(x: torch.Tensor, device, epochs: int, batch_size: int) -> float:
    model = model_784_1000(0)
    start = time.perf_counter()
    history = aelab.fit(model, x, epochs=epochs, batch_size=batch_size, device=device, progress=False)
    sync(device)
    return epochs * len(x) / (time.perf_counter() - start) if history.complete else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="training images")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dataset", default="auto")
    args = parser.parse_args()

    data = aelab.load(args.dataset, n_train=args.n, n_val=1, n_test=1, verbose=False)
    if data.image_shape != (1, 28, 28):
        raise SystemExit(f"the benchmark needs 28x28 images; {data.name} has {data.image_shape}.")
    x, y = data.x_train, data.y_train
    x_uint8 = (x[:, 0] * 255).round().to(torch.uint8)
    device = aelab.pick_device(args.device)
    print(f"{aelab.describe_device(device)}; {data.name}, {len(x)} images, {args.epochs} epochs, "
          f"784-1000-784 sigmoid AE, BCE, Adam; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'batch':>6} {'(a) DataLoader':>15} {'(b) bare tensors':>17} {'aelab.fit':>10} {'GEMM bound':>11} "
          f"{'GEMM+Adam':>10} {'aelab/(a)':>10} {'aelab/(b)':>10} {'fit/GEMM':>9} {'fit/floor':>10}   samples/s")
    for batch_size in args.batch_sizes:
        loop_tensors(x[:2 * batch_size], device, 1, batch_size)  # warm-up: allocator, kernels
        a = loop_dataloader(x_uint8, y, device, args.epochs, batch_size)
        b = loop_tensors(x, device, args.epochs, batch_size)
        ours = loop_aelab(x, device, args.epochs, batch_size)
        bound = step_limit(device, batch_size, with_dx=True, with_adam=False)
        floor = step_limit(device, batch_size, with_dx=False, with_adam=True)
        print(f"{batch_size:>6} {a:>15,.0f} {b:>17,.0f} {ours:>10,.0f} {bound:>11,.0f} {floor:>10,.0f} "
              f"{ours / a:>10.2f} {ours / b:>10.2f} {ours / bound:>9.2f} {ours / floor:>10.2f}")
    print("targets: aelab/(a) >= 2.5, aelab/(b) >= 0.8 (1.0 measured before), fit/GEMM >= 0.85 at batch 256")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
