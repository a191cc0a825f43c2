"""Several processes on one CPU machine: 2 gloo processes at batch B against 1 process at 2B.

    python benchmarks/bench_distributed.py --save benchmarks/results/distributed_cpu

Both runs take the same optimizer steps over the same samples (docs/scaling.md), so the only
difference is the cost of two processes: each gets half the cores, and the gradients are
all-reduced every step. The table reports the training time (the run's own train_time_s, no
evaluation), the whole command's wall time (torchrun start-up included), the speed ratio, and
the largest weight difference between the two runs. Each of N processes gets cores/N threads
(OMP_NUM_THREADS, as `dlcc run --nproc` sets it): on a small model two single-threaded processes
can beat one process with two threads, on a large one the per-step all-reduce costs more.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import report  # noqa: E402

SETTINGS = ["model.dropout=0", "train.optimizer=sgd", "train.lr=0.05"]


def run(recipe: str, out: Path, nproc: int, batch: int, epochs: int) -> dict:
    cmd = [sys.executable, "-m", "dlcc", "run", recipe, "--out", str(out), "--no-progress", "--set", *SETTINGS,
           f"train.batch_size={batch}", f"train.epochs={epochs}"]
    if nproc > 1:
        cmd[5:5] = ["--nproc", str(nproc)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True,
                   env={**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // nproc))})
    wall = time.perf_counter() - start
    metrics = json.loads((out / "metrics.json").read_text())
    return {"nproc": nproc, "batch_per_process": batch, "train_time_s": metrics["train_time_s"], "wall_s": wall,
            "steps": metrics["steps"], "test_accuracy": metrics.get("test_accuracy")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="mnist1d-mlp")
    parser.add_argument("--batch", type=int, default=100, help="the combined batch")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        one = run(args.recipe, Path(tmp) / "one", 1, args.batch, args.epochs)
        two = run(args.recipe, Path(tmp) / "two", 2, args.batch // 2, args.epochs)
        a, b = (torch.load(Path(tmp) / n / "model.pt", weights_only=True)["model"] for n in ("one", "two"))
        diff = max(float((a[k] - b[k]).abs().max()) for k in a)
    rows = [one, two]
    lines = [f"# {args.recipe}: 2 gloo processes at batch {args.batch // 2} against 1 process at batch {args.batch}",
             "", f"{args.epochs} epochs, {one['steps']} optimizer steps in each run; SGD, dropout 0.", "",
             "| processes | batch per process | training s | command wall s | test accuracy |",
             "|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['nproc']} | {r['batch_per_process']} | {r['train_time_s']:.2f} | {r['wall_s']:.1f} | "
              f"{r['test_accuracy']:.4f} |" for r in rows]
    ratio = two["train_time_s"] / one["train_time_s"]
    lines += ["", f"Training time, 2 processes / 1 process: **{ratio:.2f}×** "
              f"(command wall time {two['wall_s'] / one['wall_s']:.2f}×).",
              f"Largest weight difference after {one['steps']} steps: {diff:.2e} (float rounding: the per-rank "
              "gradient sums are added in another order, and the difference grows over the steps)."]
    report(lines, args.save, {"rows": rows, "ratio_train_time": ratio, "max_weight_diff": diff})
    return 0


if __name__ == "__main__":
    sys.exit(main())
