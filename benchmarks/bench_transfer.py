"""Transfer learning without hub weights: a learning curve over the number of labels.

    python benchmarks/bench_transfer.py [--labels 100 250 500 1000] [--save benchmarks/results/transfer]

Pretrains once (`cifar10-pretrain`: the fast-net backbone, supervised on CIFAR-10 classes 0-4),
then for each number of labels of the five unseen classes 5-9 trains the same network three
ways (`cifar10-transfer`), on the same labelled images, for the same number of epochs:

- scratch: random init, its learning rate chosen on the validation split from `--grid`
  (each LR trained in full; the best validation accuracy is kept);
- probe: the pretrained backbone frozen, a new linear head (LR `--probe-lr`);
- finetune: pretrained backbone + new head, discriminative LRs (head `--finetune-lr`, each
  earlier stage ×`--stage-factor`).

The validation split is `--val-size` held-out training images of classes 5-9 (the same at every
label count); test accuracy is on all 5,000 test images of classes 5-9, evaluated once per run.
Bar (issue 18): with 100 labels, finetune beats the tuned scratch baseline by >= 15 points.

CPU time is the process's user + system time (`time.process_time`), the whole script included;
torch runs on one thread (`torch.set_num_threads(1)`), because the 2-core machine is shared by
several jobs. Wall times are for the record only.
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

MODES = ("scratch", "probe", "finetune")
BAR = 0.15


def timed(recipe: str, sets: list[str], out: Path, compute: bool = True) -> dict | None:
    """Run `recipe` into `out` and time it (process CPU and wall), or reuse a finished run of the
    same settings there (so parts can run as separate processes into one --work directory)."""
    stamp = out / "bench_timing.json"
    if stamp.is_file() and json.loads(stamp.read_text())["settings"] == sets:
        print(f"== reusing {out}", flush=True)
        return {**json.loads((out / "metrics.json").read_text()), **json.loads(stamp.read_text())}
    if not compute:
        return None
    print(f"== dlcc run {recipe} --out {out} " + " ".join(f"--set {s}" for s in sets), flush=True)
    cpu, wall = time.process_time(), time.perf_counter()
    _, m = run_recipe(recipe, sets, out=out, progress=False, log=lambda line: print(f"  {line}", flush=True))
    m["run_cpu_time_s"], m["run_wall_time_s"] = time.process_time() - cpu, time.perf_counter() - wall
    stamp.write_text(json.dumps({"settings": sets, "run_cpu_time_s": m["run_cpu_time_s"],
                                 "run_wall_time_s": m["run_wall_time_s"]}))
    return m


def target_settings(args, mode: str, labels: int, backbone: Path) -> list[str]:
    sets = [f"transfer.mode={mode}", f"transfer.labels={labels}", f"transfer.val_size={args.val_size}",
            f"train.epochs={args.epochs}", f"seed={args.seed}"]
    if mode == "scratch":
        sets.append("transfer.lr_grid=[" + ",".join(f"{lr:g}" for lr in args.grid) + "]")
    else:
        sets += [f"transfer.backbone={backbone}", f"train.lr={args.probe_lr if mode == 'probe' else args.finetune_lr}",
                 f"transfer.stage_lr_factor={args.stage_factor}"]
    return sets


def table(rows: list[dict]) -> str:
    lines = ["| labels | scratch (LR chosen on val) | probe | finetune | finetune - scratch | CPU s (scratch / probe / "
             "finetune) |", "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        s, p, f = (r[m] for m in MODES)
        lines.append(f"| {r['labels']} | {s['test_accuracy']:.4f} (lr {s['lr']:g}, val {s['val_accuracy']:.3f}) | "
                     f"{p['test_accuracy']:.4f} | **{f['test_accuracy']:.4f}** | "
                     f"{f['test_accuracy'] - s['test_accuracy']:+.4f} | {s['run_cpu_time_s']:.0f} / "
                     f"{p['run_cpu_time_s']:.0f} / {f['run_cpu_time_s']:.0f} |")
    return "\n".join(lines)


def search_table(rows: list[dict]) -> str:
    lines = ["| labels | " + " | ".join(f"lr {x['lr']:g}" for x in rows[0]["scratch"]["lr_search"]) + " |",
             "|---:|" + "---:|" * len(rows[0]["scratch"]["lr_search"])]
    for r in rows:
        lines.append(f"| {r['labels']} | " + " | ".join(f"{x['val_accuracy']:.3f}" for x in r["scratch"]["lr_search"])
                     + " |")
    return "\n".join(lines)


def curve(rows: list[dict], path: Path, pretrain_acc: float) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.subplots()
    labels = [r["labels"] for r in rows]
    styles = {"scratch": ("tab:gray", "o", "from scratch (LR tuned on val)"), "probe": ("tab:blue", "s", "linear probe"),
              "finetune": ("tab:red", "^", "fine-tune (discriminative LRs)")}
    for mode in MODES:
        color, marker, name = styles[mode]
        ax.plot(labels, [r[mode]["test_accuracy"] for r in rows], marker=marker, color=color, label=name)
    ax.axhline(0.2, color="k", lw=0.8, ls=":", label="chance (5 classes)")
    ax.set_xscale("log")
    ax.set_xticks(labels, [str(n) for n in labels])
    ax.set_xlabel("labelled training images of classes 5-9 (balanced)")
    ax.set_ylabel("test accuracy (5,000 test images of classes 5-9)")
    ax.set_title(f"CIFAR-10 transfer to unseen classes (backbone: classes 0-4, {pretrain_acc:.3f} on its own test)",
                 fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 250, 500, 1000])
    parser.add_argument("--epochs", type=int, default=20, help="target training epochs, every mode")
    parser.add_argument("--grid", type=float, nargs="+", default=[0.001, 0.003, 0.01], help="scratch LRs")
    parser.add_argument("--probe-lr", type=float, default=0.01)
    parser.add_argument("--finetune-lr", type=float, default=0.003)
    parser.add_argument("--stage-factor", type=float, default=0.5)
    parser.add_argument("--val-size", type=int, default=500)
    parser.add_argument("--pretrain-epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parts", nargs="+", default=["pretrain", *MODES], choices=["pretrain", *MODES],
                        help="what this process computes; finished runs in --work are reused, and the report is "
                             "written when every run is there (parts may run as separate processes)")
    parser.add_argument("--save", type=Path, default=None, help="write <save>.md, <save>.json and <save>_curve.png")
    parser.add_argument("--work", type=Path, default=None, help="run directories (default: a temp dir)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-transfer-"))
    load_before = os.getloadavg()
    wall0 = time.perf_counter()
    args.backbone = work / "pretrain"
    pre = timed("cifar10-pretrain", [f"train.epochs={args.pretrain_epochs}", f"seed={args.seed}"], args.backbone,
                "pretrain" in args.parts)
    rows, complete = [], pre is not None
    for labels in args.labels:
        row = {"labels": labels}
        for mode in MODES:
            m = timed("cifar10-transfer", target_settings(args, mode, labels, args.backbone), work / f"{mode}-{labels}",
                      mode in args.parts and (mode == "scratch" or pre is not None))
            if m is None:
                complete = False
                continue
            row[mode] = {k: m.get(k) for k in ("test_accuracy", "val_accuracy", "val_loss", "lr", "lr_search",
                                               "run_cpu_time_s", "run_wall_time_s", "fit_cpu_time_s", "steps")}
            print(f"   -> {mode} {labels} labels: test {m['test_accuracy']:.4f}", flush=True)
        rows.append(row)
    if not complete:
        print(f"parts {args.parts} done; the report needs every run (run the other parts with --work {work})")
        return 0
    # every run's own process CPU time (runs reused from other processes included), not this process's
    cpu = pre["run_cpu_time_s"] + sum(r[m]["run_cpu_time_s"] for r in rows for m in MODES)
    wall = time.perf_counter() - wall0
    info = {**machine_info(), "load_average_before": load_before, "load_average_after": os.getloadavg()}
    first = next((r for r in rows if r["labels"] == 100), rows[0])
    gain = first["finetune"]["test_accuracy"] - first["scratch"]["test_accuracy"]
    verdict = (f"Bar (with {first['labels']} labels, finetune >= tuned scratch + {BAR * 100:.0f} points): "
               f"{'met' if gain >= BAR else 'NOT met'} - finetune {first['finetune']['test_accuracy']:.4f}, "
               f"scratch {first['scratch']['test_accuracy']:.4f} (lr {first['scratch']['lr']:g} chosen on validation), "
               f"gain {gain * 100:+.1f} points.")
    budget = (f"Total: {cpu:.0f} CPU s = {cpu / 60:.1f} CPU-minutes (process user+system, one torch thread; "
              f"pretraining {pre['run_cpu_time_s']:.0f} s of it; the sum of every run's CPU time, data loading included), "
              f"{wall / 60:.1f} minutes wall for the last part on a shared machine.")
    text = table(rows)
    print("\n" + text + "\n\n" + verdict + "\n" + budget)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        curve(rows, args.save.parent / f"{args.save.name}_curve.png", pre["test_accuracy"])
        machine = "\n".join(f"- {k}: {v}" for k, v in info.items())
        cmd = " ".join(argv if argv is not None else sys.argv[1:])
        args.save.with_suffix(".md").write_text(
            f"# Transfer learning without hub weights: CIFAR-10 classes 0-4 -> unseen classes 5-9\n\n"
            f"Backbone: `cifar10-pretrain` ({args.pretrain_epochs} epochs; test accuracy on classes 0-4: "
            f"{pre['test_accuracy']:.4f}). Target: test accuracy on the 5,000 test images of classes 5-9; "
            f"{args.epochs} epochs for every mode, AdamW, cosine schedule, batch 32; validation: {args.val_size} "
            f"held-out training images of classes 5-9 (the LR of scratch is chosen on it, never on test). "
            f"Seed {args.seed}, one run per cell.\n\n{text}\n\n{verdict}\n\n{budget}\n\n"
            f"Scratch LR search (validation accuracy per LR):\n\n{search_table(rows)}\n\n"
            f"Probe LR {args.probe_lr:g}; finetune head LR {args.finetune_lr:g}, each earlier stage ×{args.stage_factor:g} "
            f"(fixed, not tuned: the tuning favours the scratch baseline).\n\n"
            f"Curve: {args.save.name}_curve.png.\n\n"
            f"Machine ({LOAD_NOTE} torch ran on one thread: the machine's 2 cores were shared by about 8 jobs):\n"
            f"{machine}\n\nCommand: python benchmarks/bench_transfer.py {cmd}\n")
        args.save.with_suffix(".json").write_text(json.dumps(
            {"rows": rows, "pretrain": {k: pre.get(k) for k in ("test_accuracy", "run_cpu_time_s", "fit_cpu_time_s",
                                                                "epochs_run")},
             "bar": {"labels": first["labels"], "gain": gain, "met": gain >= BAR}, "cpu_time_s": cpu, "wall_time_s": wall,
             "settings": {k: str(v) for k, v in vars(args).items()}, "machine": info}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    raise SystemExit(main())
