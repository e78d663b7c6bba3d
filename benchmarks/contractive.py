"""Time one training step of a contractive autoencoder (closed-form penalty) against a plain
autoencoder step and a step whose penalty comes from the full autograd Jacobian (torch.func).

    python benchmarks/contractive.py [--batch 128] [--code 100] [--repeats 20]

All three run in this process on the same random 28x28 batch; the ratios are what to read (absolute
times depend on the machine and its load). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import torch

import aelab
from aelab.jacobian import jacobian_frobenius_sq


class AutogradContractive:
    """weight * mean ||J_h(x)||_F^2 from the full Jacobian (any encoder), for comparison."""

    name = "contractive_autograd"

    def __init__(self, weight: float):
        self.weight = weight

    def __call__(self, model, x, code):
        return self.weight * jacobian_frobenius_sq(model.encoder, x).mean()


def time_step(model, x, repeats: int) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        total, _ = model.loss(x)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()

    for _ in range(3):  # warm-up (first torch.func call is slow)
        step()
    best = float("inf")
    for _ in range(repeats):  # best of repeats: least disturbed by other processes
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--code", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.rand(args.batch, 1, 28, 28)
    builds = {
        "plain AE": [],
        "CAE, closed form": [aelab.Contractive(1.0)],
        "CAE, autograd Jacobian": [AutogradContractive(1.0)],
    }
    times = {}
    for name, penalties in builds.items():
        torch.manual_seed(0)
        model = aelab.mlp_autoencoder((1, 28, 28), args.code, tied=True, penalties=penalties)
        times[name] = time_step(model, x, args.repeats)
    print(f"batch {args.batch}, 784 -> {args.code} sigmoid, tied weights, {torch.get_num_threads()} threads; "
          f"best of {args.repeats} steps")
    base = times["plain AE"]
    for name, seconds in times.items():
        print(f"  {name:24s} {1e3 * seconds:8.2f} ms/step   {seconds / base:6.2f} x plain AE")
    ratio = times["CAE, autograd Jacobian"] / times["CAE, closed form"]
    print(f"  autograd Jacobian / closed form: {ratio:.1f} x")


if __name__ == "__main__":
    main()
