"""Training throughput of the CIFAR nets in NCHW (contiguous) vs NHWC (channels-last) layout.

    python benchmarks/bench_channels_last.py [--repeats 5] [--steps 4]

One training step = forward, cross-entropy, backward and an SGD step on a batch of random
32×32 images. For each net the two layouts run alternately (`--repeats` rounds of `--steps`
steps each, after one warm-up round), so a change in machine load hits both alike; the table
gives the median images/s of each layout and their ratio. Writes
benchmarks/results/channels_last.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, loadavg, machine_info, machine_markdown  # noqa: E402

from dlcc.models import get_model  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# model name: (batch size, constructor arguments) as in its recipe
NETS = {"cifar-fast": (512, {"widths": (64, 128, 256)}), "small-cnn": (128, {}), "small-resnet": (128, {})}


def images_per_s(model: nn.Module, batch: int, channels_last: bool, steps: int) -> float:
    """Training throughput of `model` on random `[batch, 3, 32, 32]` images in one layout."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, 32, 32).to(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return batch * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    rows, results, load = [], {}, {"start": loadavg()}
    for name, (batch, kwargs) in NETS.items():
        torch.manual_seed(0)
        model = get_model(name, **kwargs).train()
        speeds: dict[bool, list[float]] = {False: [], True: []}
        for round_ in range(args.repeats + 1):
            for layout in (False, True):
                speed = images_per_s(model, batch, layout, args.steps)
                if round_:                      # round 0 warms up both layouts
                    speeds[layout].append(speed)
        nchw, nhwc = statistics.median(speeds[False]), statistics.median(speeds[True])
        results[name] = {"batch": batch, "nchw_images_per_s": nchw, "nhwc_images_per_s": nhwc,
                         "speedup": nhwc / nchw, "all": {"nchw": speeds[False], "nhwc": speeds[True]}}
        rows.append(f"| {name} | {batch} | {nchw:,.0f} | {nhwc:,.0f} | {nhwc / nchw:.2f}x |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "# Channels-last (NHWC) vs contiguous (NCHW) training throughput, CPU",
        "",
        f"Training steps (forward, loss, backward, SGD) on random 32×32 batches; median of {args.repeats} "
        f"alternating rounds of {args.steps} steps, {torch.get_num_threads()} torch threads.",
        "",
        "| net | batch | NCHW images/s | NHWC images/s | NHWC speed-up |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"Load average (1, 5, 15 min): start {load['start']}, end {loadavg()}. {LOAD_NOTE}",
        "",
        "Machine:",
        machine_markdown(),
        "",
    ])
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "channels_last.md").write_text(text)
    (RESULTS / "channels_last.json").write_text(json.dumps({"results": results, "machine": machine_info()},
                                                           indent=2))


if __name__ == "__main__":
    main()
