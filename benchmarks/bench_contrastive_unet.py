"""A U-Net encoder pretrained contrastively on unlabelled EM, then fine-tuned on few masks:
test Dice against the number of labelled images, pretrained vs from scratch.

    python benchmarks/bench_contrastive_unet.py [--counts 1 2 4 8] [--save benchmarks/results/contrastive_unet]

Data: ISBI 2012 EM (`dlcc data path isbi2012-em`). Pretraining uses only the challenge's 30
*test* slices, whose labels were never released (SimCLR on random crops, `dlcc.contrastive.segment`).
Fine-tuning uses the first n of a seeded shuffle of training slices 0-22 (nested sets); the
test Dice (cell interior = 1, as `isbi-unet` scores it) is on training slices 25-29, which
neither stage sees. Both inits get the same U-Net, seed, steps, LR, patches and augmentation;
only the contracting path differs (pretrained vs random). Each count is repeated for
`--seeds` seeds (different labelled slices, patches and init).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, machine_info  # noqa: E402


def main(argv=None) -> int:
    from dlcc.contrastive.segment import UNetEncoder, label_curve, pretrain_encoder
    from dlcc.data import load_isbi2012
    from dlcc.models import UNet

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--pretrain-steps", type=int, default=150)
    parser.add_argument("--pretrain-batch", type=int, default=32)
    parser.add_argument("--crop", type=int, default=64)
    parser.add_argument("--finetune-steps", type=int, default=60)
    parser.add_argument("--patch", type=int, default=96)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save", type=Path, default=Path("benchmarks/results/contrastive_unet"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    cpu0, wall0, load0 = time.process_time(), time.perf_counter(), os.getloadavg()

    d = load_isbi2012()
    unlabelled = torch.from_numpy(d["test_images"])[:, None]                      # [30, 1, 512, 512] uint8

    def pair(i):
        return (torch.from_numpy(d["train_images"][i]).float()[None] / 255,
                torch.from_numpy((d["train_labels"][i] > 0).astype(np.float32))[None])

    pool = [pair(i) for i in range(23)]
    test = [pair(i) for i in range(25, 30)]
    rows, pretrain_info = [], []
    for seed in range(args.seeds):
        def make_unet(seed=seed):
            torch.manual_seed(seed)
            return UNet(1, 1, depth=args.depth, width=args.width)

        unet = make_unet()
        info = pretrain_encoder(UNetEncoder(unet), unlabelled, args.pretrain_steps, crop=args.crop,
                                batch=args.pretrain_batch, seed=seed)
        pretrain_info.append(info)
        print(f"seed {seed}: pretrained {info['steps']} steps, NT-Xent {info['loss']:.3f}, {info['cpu_s']:.0f} CPU s",
              flush=True)
        state = {k: v.clone() for k, v in unet.state_dict().items()}
        for row in label_curve(make_unet, pool, test, args.counts, args.finetune_steps, state, seed=seed,
                               patch=args.patch, batch=args.batch):
            row["seed"] = seed
            rows.append(row)
            print(f"  n={row['labelled']} {row['init']:<10} test Dice {row['test_dice']:.4f} "
                  f"({row['cpu_s']:.0f} CPU s)", flush=True)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0

    table = ["| labelled images | scratch Dice | pretrained Dice | difference |", "|---:|---:|---:|---:|"]
    summary = []
    for n in args.counts:
        s = [r["test_dice"] for r in rows if r["labelled"] == n and r["init"] == "scratch"]
        p = [r["test_dice"] for r in rows if r["labelled"] == n and r["init"] == "pretrained"]
        summary.append({"labelled": n, "scratch": float(np.mean(s)), "pretrained": float(np.mean(p))})
        table.append(f"| {n} | {np.mean(s):.4f} | {np.mean(p):.4f} | {np.mean(p) - np.mean(s):+.4f} |")
    text = "\n".join(table)
    print(text)
    print(f"{cpu / 60:.1f} CPU-min, {wall / 60:.1f} wall-min (shared machine), {args.threads} thread(s)")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        info = {**machine_info(), "load_average_before": load0, "load_average_after": os.getloadavg()}
        machine = "\n".join(f"- {k}: {v}" for k, v in info.items())
        args.save.with_suffix(".md").write_text(
            f"# Contrastive U-Net pretraining on unlabelled EM, fine-tuned on few masks\n\n{text}\n\n"
            f"Test Dice (cell interior) on ISBI training slices 25-29, mean over {args.seeds} seed(s). U-Net depth "
            f"{args.depth}, width {args.width}. Pretraining: SimCLR on {args.crop}x{args.crop} crops of the 30 "
            f"unlabelled test slices, {args.pretrain_steps} steps of {args.pretrain_batch} crops (2 views each). "
            f"Fine-tuning: {args.finetune_steps} steps of {args.batch} random {args.patch}x{args.patch} patches "
            f"(flips, 90-degree rotations), AdamW 1e-3, warm-up + cosine, same for both inits.\n\n"
            f"Whole benchmark: {cpu / 60:.1f} CPU-min (process user + system), {wall / 60:.1f} wall-min on a "
            f"shared machine ({LOAD_NOTE}); torch threads {args.threads}.\n\nMachine:\n{machine}\n\n"
            f"Command: python benchmarks/bench_contrastive_unet.py {' '.join(argv if argv is not None else sys.argv[1:])}\n")
        args.save.with_suffix(".json").write_text(json.dumps(
            {"summary": summary, "runs": rows, "pretrain": pretrain_info, "args": {k: str(v) for k, v in vars(args).items()},
             "cpu_time_s": cpu, "wall_time_s": wall, "machine": info}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
