"""Training-loop overhead: `dlcc.train.fit` against a bare hand-written loop.

Same model (the course's CIFAR-10 MLP, 1,083,610 parameters), same data and loader (CIFAR-10
uint8 tensors, mean subtraction and flips per batch), same initial weights, same optimizer
(SGD momentum 0.9, batch 256), no validation in either. The bare loop is the course's 5-line step:

    for x, y in loader:
        loss = loss_fn(model(x), y); optimizer.zero_grad(); loss.backward(); optimizer.step()

Variants of `fit`: as the recipes use it (train accuracy per batch, loss.item() and NaN check,
callbacks); with metrics={}; and with a checkpoint written every epoch. Runs are interleaved and
repeated (each measurement: wall time of a whole call / epochs); the ratio uses the median of
each variant (the min in the last column).
Writes benchmarks/results/train_overhead.{md,json}.

    DLCC_DATA=../shared/data python benchmarks/bench_train_overhead.py --threads 1

Target (issue 6): fit / bare <= 1.05.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, machine_markdown  # noqa: E402

from dlcc.models.mlp import PytorchMLP  # noqa: E402
from dlcc.recipes.cifar10_mlp import DEFAULTS, load_loaders  # noqa: E402
from dlcc.train import fit  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _per_epoch(start: tuple[float, float], epochs: int) -> tuple[float, float]:
    wall, cpu = _clock()
    return (wall - start[0]) / epochs, (cpu - start[1]) / epochs


def bare(model, loader, epochs) -> tuple[float, float]:
    """(wall, CPU) seconds per epoch of the hand-written loop (whole call / epochs)."""
    start = _clock()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return _per_epoch(start, epochs)


def with_fit(model, loader, epochs, **kwargs) -> tuple[float, float]:
    """(wall, CPU) seconds per epoch of `fit` (whole call, checkpoints included, / epochs)."""
    start = _clock()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    fit(model, loader, None, nn.CrossEntropyLoss(), optimizer, epochs, device="cpu", progress=False, **kwargs)
    return _per_epoch(start, epochs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subset", type=int, default=15000, help="CIFAR-10 training images used (0 = all)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per measurement")
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    cfg = {**DEFAULTS, "subset": args.subset, "val_size": 1000}
    loader = load_loaders(cfg)["train"]
    torch.manual_seed(0)
    init = PytorchMLP(32, 32, 3, DEFAULTS["model"]["hidden"]).state_dict()

    def fresh():
        model = PytorchMLP(32, 32, 3, DEFAULTS["model"]["hidden"])
        model.load_state_dict(init)
        return model

    tmp = Path(tempfile.mkdtemp(prefix="dlcc-bench-"))
    variants = {
        "bare loop": lambda: bare(fresh(), loader, args.epochs),
        "fit (as in recipes)": lambda: with_fit(fresh(), loader, args.epochs),
        "fit, metrics={}": lambda: with_fit(fresh(), loader, args.epochs, metrics={}),
        "fit + checkpoint/epoch": lambda: with_fit(fresh(), loader, args.epochs,
                                                   out_dir=tempfile.mkdtemp(dir=tmp)),
    }
    bare(fresh(), loader, 1)  # warm-up (allocator, thread pool)
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for rep in range(args.repeats):
        for name, run in variants.items():
            w, c = run()
            wall[name].append(w)
            cpu[name].append(c)
            print(f"repeat {rep + 1}: {name:<24} wall {w:.3f} s/epoch  cpu {c:.3f} s/epoch", flush=True)

    med = statistics.median
    rows = []
    for name in variants:
        rows.append({"variant": name,
                     "cpu_median_s": round(med(cpu[name]), 4), "wall_median_s": round(med(wall[name]), 4),
                     "cpu_ratio": round(med(cpu[name]) / med(cpu["bare loop"]), 4),
                     "wall_ratio": round(med(wall[name]) / med(wall["bare loop"]), 4),
                     "cpu_ratio_min": round(min(cpu[name]) / min(cpu["bare loop"]), 4),
                     "measurements": len(cpu[name])})
    table = ["| variant | CPU s/epoch (median) | ratio to bare: CPU median | CPU min | wall s/epoch (median) | wall ratio |",
             "|---|---|---|---|---|---|"]
    table += [f"| {r['variant']} | {r['cpu_median_s']:.3f} | {r['cpu_ratio']:.3f} | {r['cpu_ratio_min']:.3f} | "
              f"{r['wall_median_s']:.3f} | {r['wall_ratio']:.3f} |" for r in rows]
    steps = len(loader)
    text = "\n".join([
        "# Training-loop overhead: dlcc.train.fit vs a bare loop",
        "",
        f"Course CIFAR-10 MLP (1,083,610 parameters), {len(loader.dataset)} CIFAR-10 images, "
        f"batch 256 ({steps} steps/epoch), SGD momentum 0.9, CPU, {args.repeats} interleaved repeats "
        f"x {args.epochs} epoch(s) per variant, {torch.get_num_threads()} torch thread(s). "
        "Target: fit / bare <= 1.05.",
        "",
        "Process CPU time is the headline: on a shared machine wall time mostly measures the other "
        "processes (see the wall columns).",
        "",
        *table,
        "",
        "Machine:",
        machine_markdown(),
        "",
    ])
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "train_overhead.md").write_text(text)
    (RESULTS / "train_overhead.json").write_text(json.dumps(
        {"rows": rows, "wall_s_per_epoch": wall, "cpu_s_per_epoch": cpu, "subset": args.subset, "steps_per_epoch": steps,
         "machine": machine_info()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
