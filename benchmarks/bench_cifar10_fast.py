"""CIFAR-10 in a fixed time on the CPU: `cifar10-fast` vs the course's small ResNet recipe.

    python benchmarks/bench_cifar10_fast.py [--budget 600] [--clock wall|cpu]

Both recipes run one after the other in this process, each with the same training-time budget
(`time_budget_s`; evaluation time is not counted), on all CPU cores torch uses:

- `cifar10-fast`: its defaults (airbench-style net, whitening, lookahead, flip TTA); its
  schedule follows the clock, so it ends its decay when the budget is used up;
- `cifar10-resnet`: the course's small pre-activation ResNet, Adam with a fixed learning rate
  (`scheduler=none`; the course's StepLR(5) would not step within the budget anyway).

The test accuracy is measured at the end of every epoch (and every `--resnet-eval-steps` steps
for the slower ResNet) outside the clock, which gives the time to 80 % where it is reached.
`--clock cpu` budgets process CPU time / threads instead of wall time (an estimate of an idle
machine's wall time on a shared one). Writes benchmarks/results/cifar10_fast.{md,json,png}.

Target (issue 7): cifar10-fast >= 0.85 test accuracy after 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, loadavg, machine_info, machine_markdown  # noqa: E402

from dlcc.recipes.runner import run_recipe  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def plot(curves: dict, path: Path, budget: float) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4))
    ax = fig.subplots()
    for name, points in curves.items():
        ax.plot([p["train_time_s"] for p in points], [p["test_accuracy"] for p in points], marker="o", label=name)
    ax.axhline(0.85, color="grey", ls=":", lw=1)
    ax.axhline(0.80, color="grey", ls=":", lw=1)
    ax.set(xlabel="training time (s)", ylabel="test accuracy", xlim=(0, budget * 1.02), ylim=(0, 1),
           title=f"CIFAR-10 on {os.cpu_count()} CPU cores, {budget:g} s budget")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=600.0)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--resnet-eval-steps", type=int, default=100)
    parser.add_argument("--only", choices=["cifar10-fast", "cifar10-resnet"], default=None)
    parser.add_argument("--name", default="cifar10_fast", help="results file stem")
    args = parser.parse_args()

    common = [f"train.time_budget_s={args.budget}", f"train.clock={args.clock}", "eval.monitor_test=true"]
    runs = {"cifar10-fast": [*common, "train.epochs=100"],
            "cifar10-resnet": [*common, "train.epochs=100", "train.schedule=none",
                               f"eval.monitor_every_steps={args.resnet_eval_steps}"]}
    if args.only:
        runs = {args.only: runs[args.only]}
    results, load = {}, {"start": loadavg()}
    with tempfile.TemporaryDirectory(prefix="dlcc-bench-") as tmp:
        for recipe, overrides in runs.items():
            start = time.perf_counter()
            _, m = run_recipe(recipe, overrides, out=Path(tmp) / recipe, progress=False, log=print)
            load[recipe] = loadavg()
            results[recipe] = {
                "test_accuracy": m["test_accuracy"], "train_time_s": m["train_time_s"], "steps": m["steps"],
                "epochs": round(m["train_time_s"] / m["epoch_time_s"], 2) if m.get("epoch_time_s") else None,
                "epoch_time_s": m.get("epoch_time_s"), "time_to_80_s": m.get("time_to_80_s"),
                "time_to_85_s": m.get("time_to_85_s"), "time_to_90_s": m.get("time_to_90_s"),
                "test_curve": m.get("test_curve"), "n_params": m["n_params"],
                "wall_s": round(time.perf_counter() - start, 1), "overrides": overrides}
            print(f"{recipe}: test accuracy {m['test_accuracy']:.4f} after {m['train_time_s']:.0f} s of training "
                  f"({m['steps']} steps)", flush=True)

    def fmt(v, spec=".1f"):
        return "not reached" if v is None else format(v, spec)

    table = ["| recipe | test accuracy | training time (s) | epochs | epoch time (s) | time to 80 % (s) | "
             "time to 85 % (s) | parameters |", "|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        table.append(f"| {name} | {r['test_accuracy']:.4f} | {r['train_time_s']:.0f} | {fmt(r['epochs'], '.2f')} | "
                     f"{fmt(r['epoch_time_s'])} | {fmt(r['time_to_80_s'], '.0f')} | {fmt(r['time_to_85_s'], '.0f')} | "
                     f"{r['n_params']:,} |")
    fast = results.get("cifar10-fast")
    verdict = "" if fast is None else (
        f"Target cifar10-fast >= 0.85: **{'reached' if fast['test_accuracy'] >= 0.85 else 'NOT reached'}** "
        f"({fast['test_accuracy']:.4f}).")
    text = "\n".join([
        f"# CIFAR-10 in {args.budget:g} s of training on the CPU",
        "",
        f"Budget: {args.budget:g} s of training per recipe, {args.clock} clock "
        f"({'real time' if args.clock == 'wall' else 'process CPU time / torch threads'}); evaluation not "
        "counted. Test accuracy on the 10,000 test images (cifar10-fast with flip TTA). Time to X %: "
        "training time at the first evaluation at or above X % (evaluations at epoch ends, and every "
        f"{args.resnet_eval_steps} steps for the ResNet).",
        "",
        *table,
        "",
        verdict,
        "",
        "Load average (1, 5, 15 min) at the start and after each run: "
        + "; ".join(f"{k} {v}" for k, v in load.items())
        + ". " + LOAD_NOTE,
        "",
        f"Curves: {args.name}.png. Overrides: " + "; ".join(f"{k}: {' '.join(r['overrides'])}" for k, r in results.items()),
        "",
        "Machine:",
        machine_markdown(),
        "",
    ])
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.md").write_text(text)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(
        {"budget_s": args.budget, "clock": args.clock, "results": results, "loadavg": load,
         "machine": machine_info()}, indent=2))
    plot({k: r["test_curve"] or [] for k, r in results.items()}, RESULTS / f"{args.name}.png", args.budget)


if __name__ == "__main__":
    main()
