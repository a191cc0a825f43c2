"""Conv2d forward+backward: dlcc.scratch (NumPy im2col) against torch.nn.Conv2d on CPU.

    python benchmarks/bench_scratch_conv.py [--repeats 7] [--save benchmarks/results/scratch_conv.md]

Both sides run in this one process, float32, with their default thread settings, and compute
the same things: the output, the weight and bias gradients and the input gradient. Each time
is the median of `--repeats` interleaved runs after one warm-up. Target (issue 4): ratio <= 3.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from dlcc.scratch.layers import Conv2d

# (batch, in, out, H, W, kernel, stride, padding): CIFAR-like layers.
SHAPES = [
    (64, 3, 32, 32, 32, 3, 1, 1),
    (64, 32, 64, 32, 32, 3, 1, 1),
    (64, 64, 64, 16, 16, 3, 1, 1),
    (64, 64, 128, 16, 16, 3, 2, 1),
    (64, 128, 128, 8, 8, 3, 1, 1),
]


def median_ms(fns, repeats: int) -> list[float]:
    """Median wall time of each function; runs are interleaved so that both sides see the same
    machine load (this matters on a shared machine)."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [1e3 * statistics.median(bucket) for bucket in times]


def bench_shape(shape, repeats: int) -> dict:
    n, cin, cout, h, w, k, s, p = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, cin, h, w), dtype=np.float32)
    ours = Conv2d(cin, cout, k, stride=s, padding=p, rng=0)
    theirs = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p)
    ours.load_state_dict(theirs.state_dict())
    dy = rng.standard_normal(ours.output_shape(x.shape), dtype=np.float32)
    xt = torch.from_numpy(x).requires_grad_()
    dyt = torch.from_numpy(dy)

    def scratch_step():
        ours.forward(x)
        ours.backward(dy)

    def torch_step():
        xt.grad = None
        theirs.zero_grad(set_to_none=True)
        theirs(xt).backward(dyt)

    # Sanity (and warm-up): same numbers, to float32 tolerance, before timing anything.
    scratch_step()
    torch_step()
    err = np.abs(ours.grads["weight"] - theirs.weight.grad.numpy()).max()
    assert err <= 1e-3 * np.abs(theirs.weight.grad.numpy()).max(), f"weight grads differ by {err}"
    scratch_ms, torch_ms = median_ms([scratch_step, torch_step], repeats)
    return {"shape": f"N{n} {cin}->{cout} {h}x{w} k{k} s{s} p{p}", "scratch_ms": scratch_ms,
            "torch_ms": torch_ms, "ratio": scratch_ms / torch_ms}


def machine_info() -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), load average {load}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--save", type=Path, help="also write the table as Markdown here")
    args = parser.parse_args(argv)
    rows = [bench_shape(shape, args.repeats) for shape in SHAPES]
    lines = ["| shape | scratch ms | torch ms | ratio |", "|---|---:|---:|---:|"]
    lines += [f"| {r['shape']} | {r['scratch_ms']:.1f} | {r['torch_ms']:.1f} | {r['ratio']:.2f} |"
              for r in rows]
    table = "\n".join(lines)
    print(table)
    print(f"\nmachine: {machine_info()}")
    if args.save:
        env = " ".join(f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
                       if k in os.environ)
        busy = hasattr(os, "getloadavg") and os.getloadavg()[0] > (os.cpu_count() or 1)
        note = ("\nThe load average exceeded the CPU count: other jobs shared the CPU during this "
                "run, so absolute times are inflated and ratios noisy.\n" if busy else "")
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(f"# Conv2d forward+backward, dlcc.scratch vs torch (float32, CPU)\n\n"
                             f"{table}\n\nMachine: {machine_info()}\n"
                             f"Command: {env + ' ' if env else ''}python benchmarks/bench_scratch_conv.py "
                             f"--repeats {args.repeats}\n{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
