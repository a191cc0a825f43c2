"""MNIST GANs on one budget: mnist-cgan, mnist-gan and mnist-wgan-gp, each trained for the same
CPU time and scored with dlcc's MNIST judge.

    python benchmarks/bench_gans.py [--budget 450] [--save benchmarks/results/gans]

Each recipe runs with its defaults except `train.steps=null train.time_budget_s=BUDGET
train.clock=cpu`: training stops after BUDGET seconds of process CPU time divided by the torch
threads (2 here), i.e. about BUDGET seconds of an idle 2-core machine; the evaluations that
select the weights (val_fd on 2,000 samples every 500 steps) come on top and are counted in
`fit_cpu_time_s`. The final scoring (10,000 samples, the copy check) is measured apart.

Bar (issue 14): mnist-cgan within 10 minutes on 2 CPU cores reaches conditional accuracy >= 0.95
and a Fréchet distance under a quarter of the collapsed control's, reported beside the
real-vs-real floor.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, machine_info  # noqa: E402

from dlcc.recipes.runner import run_recipe  # noqa: E402

RECIPES = ("mnist-cgan", "mnist-gan", "mnist-wgan-gp")
NOTES = """Notes:
- CPU time is the process's user + system time; "2-core minutes" = CPU seconds / 2 / 60, what
  the run would take on an idle machine with both cores busy. Wall times on this shared machine
  are longer and are listed only for the record.
- Fréchet distances are on the penultimate features (128) of dlcc's shipped MNIST judge
  (test accuracy 0.9911), 10,000 generated images against the 10,000 test images. The floor is
  10,000 held-out training images against the same test images; the ceiling ("collapsed") is
  one fixed training image per class repeated 1,000 times. They are not Inception FIDs and are
  not comparable with published FID numbers.
- "class coverage" (unconditional GANs): the share of the rarest digit among the samples, as a
  fraction of an even share (1 = all digits equally often; 0 = a digit never generated).
- Copy check: median distance of 1,000 generated images to their nearest training image,
  divided by the same for 1,000 test images (about 1: no sign of copying); near-copies: share
  of generated images closer to a training image than 99 % of test images are (1 % for
  genuinely new data)."""


def run(recipe: str, budget: float, work: Path) -> dict:
    sets = ["train.steps=null", f"train.time_budget_s={budget}", "train.clock=cpu"]
    print(f"== dlcc run {recipe} " + " ".join(f"--set {s}" for s in sets), flush=True)
    cpu, wall = time.process_time(), time.perf_counter()
    out, m = run_recipe(recipe, sets, out=work / recipe, progress=False,
                        log=lambda line: print(f"  [{recipe}] {line}", flush=True))
    m["run_cpu_time_s"], m["run_wall_time_s"] = time.process_time() - cpu, time.perf_counter() - wall
    return {"recipe": recipe, "overrides": sets, "out": str(out), **m}


def table(rows: list[dict]) -> str:
    lines = ["| recipe | steps | fit CPU (2-core min) | run CPU (2-core min) | Fréchet d. | floor (real vs real) | "
             "collapsed | ratio to collapsed | conditional accuracy / class coverage | NN ratio | near-copies |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cls = (f"{r['test_cond_accuracy']:.4f}" if "test_cond_accuracy" in r
               else f"coverage {r['test_class_min_share']:.2f}")
        lines.append(
            f"| {r['recipe']} | {r['steps']} | {r['fit_cpu_time_s']:.0f} s ({r['fit_cpu_time_s'] / 120:.1f}) | "
            f"{r['run_cpu_time_s']:.0f} s ({r['run_cpu_time_s'] / 120:.1f}) | **{r['test_fd']:.2f}** | "
            f"{r['test_fd_floor']:.2f} | {r['test_fd_collapsed']:.1f} | {r['test_fd_ratio']:.3f} | {cls} | "
            f"{r['test_nn_ratio']:.2f} | {r['test_near_copy_rate']:.3f} |")
    return "\n".join(lines)


def samples_figure(rows: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure
    from PIL import Image

    fig = Figure(figsize=(5 * len(rows), 5.4))
    for ax, r in zip(fig.subplots(1, len(rows), squeeze=False)[0], rows):
        ax.imshow(Image.open(Path(r["out"]) / "samples.png"), cmap="gray")
        ax.set_title(f"{r['recipe']}: Fréchet d. {r['test_fd']:.1f} (floor {r['test_fd_floor']:.1f}, "
                     f"collapsed {r['test_fd_collapsed']:.0f})", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=450.0, help="training seconds on the cpu clock per recipe")
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES))
    parser.add_argument("--save", type=Path, default=None, help="write <save>.md, <save>.json and <save>_samples.png")
    parser.add_argument("--work", type=Path, default=None, help="run directories (default: a temp dir)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-gans-"))
    load_before = os.getloadavg()
    rows = [run(recipe, args.budget, work) for recipe in args.recipes]
    info = {**machine_info(), "load_average_before": load_before, "load_average_after": os.getloadavg()}
    text = table(rows)
    verdicts = []
    for r in rows:
        if r["recipe"] == "mnist-cgan":
            ok = (r["test_cond_accuracy"] >= 0.95 and r["test_fd_ratio"] < 0.25 and r["run_cpu_time_s"] <= 1200)
            verdicts.append(f"mnist-cgan bar (conditional accuracy >= 0.95, Fréchet distance < 1/4 of the collapsed "
                            f"control's, within 10 minutes on 2 cores = 1,200 CPU s): "
                            f"{'met' if ok else 'NOT met'} - accuracy {r['test_cond_accuracy']:.4f}, ratio "
                            f"{r['test_fd_ratio']:.3f}, {r['run_cpu_time_s']:.0f} CPU s for the whole run "
                            f"(floor {r['test_fd_floor']:.2f}, the GAN {r['test_fd']:.2f}, collapsed "
                            f"{r['test_fd_collapsed']:.1f})")
    verdict = "\n".join(verdicts)
    print(text + "\n\n" + verdict)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        samples_figure(rows, args.save.parent / f"{args.save.name}_samples.png")
        machine = "\n".join(f"- {k}: {v}" for k, v in info.items())
        args.save.with_suffix(".md").write_text(
            f"# MNIST GANs on one budget ({args.budget:g} s of training on the cpu clock each)\n\n{text}\n\n{verdict}\n\n"
            f"Samples: {args.save.name}_samples.png (mnist-cgan: one digit per column).\n\n{NOTES}\n\n"
            f"Machine ({LOAD_NOTE}):\n{machine}\n\nCommand: python benchmarks/bench_gans.py "
            f"{' '.join(argv if argv is not None else sys.argv[1:])}\n")
        keep = [{k: v for k, v in r.items() if not isinstance(v, (list, dict))} for r in rows]
        args.save.with_suffix(".json").write_text(json.dumps({"runs": keep, "machine": info, "budget_s": args.budget},
                                                             indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(2)
    raise SystemExit(main())
