"""Gradient checkpointing: peak memory and step time with and without it, U-Net and GPT.

    python benchmarks/bench_checkpointing.py --save benchmarks/results/checkpointing

Each configuration runs in its own process (so the peak resident memory, ru_maxrss, is its
own): a few warm-up steps, then `--steps` timed training steps (forward, backward, AdamW),
reporting the peak RSS and the mean CPU time and wall time per step. On a GPU the peak CUDA
memory would be the figure to read; on a CPU the resident set includes the framework
(about 400 MB), so the difference between the two rows is what checkpointing saves.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import report  # noqa: E402

CASES = {
    "U-Net depth 4, width 32, batch 8 of 256²": "unet",
    "GPT 6 × 384, context 256, batch 32": "gpt",
}


def child(kind: str, checkpointing: bool, steps: int) -> dict:
    import torch

    from dlcc.models import UNet
    from dlcc.models.transformer import GPT

    torch.set_num_threads(2)
    torch.manual_seed(0)
    if kind == "unet":
        model = UNet(1, 1, depth=4, width=32, checkpointing=checkpointing)
        x, loss = torch.randn(8, 1, 256, 256), lambda out: out.square().mean()
    else:
        model = GPT(65, 256, 6, 6, 384, checkpointing=checkpointing)
        x, loss = torch.randint(0, 65, (32, 256)), lambda out: out.logsumexp(-1).mean()
    opt = torch.optim.AdamW(model.parameters(), 1e-4)
    model.train()
    for i in range(steps + 2):
        if i == 2:
            start, cpu = time.perf_counter(), time.process_time()
        opt.zero_grad()
        loss(model(x)).backward()
        opt.step()
    return {"step_s": (time.perf_counter() - start) / steps, "step_cpu_s": (time.process_time() - cpu) / steps,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1] == "1", args.steps)))
        return 0
    rows = []
    for name, kind in CASES.items():
        for ckpt in (False, True):
            out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child", kind, str(int(ckpt))],
                                 capture_output=True, text=True, check=True).stdout
            rows.append({"case": name, "checkpointing": ckpt, **json.loads(out.strip().splitlines()[-1])})
            print(rows[-1], flush=True)
    lines = ["# Gradient checkpointing: peak memory and step time", "",
             "| model | checkpointing | peak RSS | CPU s / step | wall s / step |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r['case']} | {'on' if r['checkpointing'] else 'off'} | {r['peak_rss_mb']:,.0f} MB | "
              f"{r['step_cpu_s']:.2f} | {r['step_s']:.2f} |" for r in rows]
    lines += ["", "CPU time is the steadier figure on a shared machine."]
    report(lines, args.save, {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
