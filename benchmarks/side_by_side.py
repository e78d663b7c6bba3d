"""Two training jobs on 2 CPU cores: one after the other with 2 threads each, or side by side with 1 each.

    python benchmarks/side_by_side.py [--n 8000] [--epochs 2] [--workloads mlp1000 cae100] [--mode both]

The question it answers: should `make test` run two of its legs at the same time? A job here is
`aelab.fit` on synthetic 28x28 images in [0, 1] (throughput does not depend on the pixel values):
``mlp1000`` is the 784-1000-784 sigmoid autoencoder of notebooks 03-05 (batch 128), ``cae100`` the
784-100-784 tied contractive autoencoder of notebook 06 (batch 128). For each workload it times two
jobs one after the other, each with torch's default threads (2 on 2 cores), then the same two jobs
as two processes started together with OMP_NUM_THREADS=1, and prints both wall times and their ratio
(below 1: side by side is faster). It also prints the load average before and after, so a reader can
see whether anything else was running. Nothing is asserted: times depend on the machine.
``--mode together`` or ``--mode serial`` runs only that half (for farm-bench: ``farm-bench -- python
benchmarks/side_by_side.py --mode together --workloads mlp1000 --vs 'python ... --mode serial ...'``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(workload: str, n: int, epochs: int) -> None:
    import torch

    sys.path.insert(0, str(ROOT))
    import aelab

    x = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    if workload == "mlp1000":
        model = aelab.mlp_autoencoder((1, 28, 28), code=1000, seed=0)
    elif workload == "cae100":
        model = aelab.mlp_autoencoder((1, 28, 28), code=100, tied=True, seed=0,
                                      penalties=[aelab.Contractive(1.0)])
    else:
        raise SystemExit(f"unknown workload {workload!r}: mlp1000 or cae100")
    aelab.fit(model, x, epochs=epochs, batch_size=128, device="cpu", progress=False)


def run_jobs(workload: str, n: int, epochs: int, together: bool) -> float:
    """Wall seconds of two jobs, one after the other (default threads) or together (1 thread each)."""
    cmd = [sys.executable, __file__, "--worker", workload, "--n", str(n), "--epochs", str(epochs)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"} if together else dict(os.environ)
    start = time.perf_counter()
    if together:
        jobs = [subprocess.Popen(cmd, env=env) for _ in range(2)]
        if any(job.wait() for job in jobs):
            raise SystemExit("a side-by-side job failed")
    else:
        for _ in range(2):
            subprocess.run(cmd, env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workloads", nargs="*", default=["mlp1000", "cae100"])
    parser.add_argument("--mode", choices=("both", "together", "serial"), default="both")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.n, args.epochs)
        return 0
    if args.mode != "both":
        for workload in args.workloads:
            run_jobs(workload, args.n, args.epochs, together=args.mode == "together")
        return 0
    print(f"{os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")
    for workload in args.workloads:
        serial = run_jobs(workload, args.n, args.epochs, together=False)
        together = run_jobs(workload, args.n, args.epochs, together=True)
        print(f"{workload}: one after the other, default threads {serial:.1f} s; side by side, one thread each "
              f"{together:.1f} s; ratio {together / serial:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
