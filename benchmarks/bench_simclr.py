"""SimCLR on a CPU budget: linear-probe accuracy of `cifar10-simclr` against the probe of a
randomly initialised encoder, next to supervised training of the same encoder on the same budget.

    python benchmarks/bench_simclr.py --stage simclr     [--cpu-min 10] [--threads 2]
    python benchmarks/bench_simclr.py --stage supervised [--cpu-min 10] [--threads 2]
    python benchmarks/bench_simclr.py --stage report     [--save benchmarks/results/simclr]

The two training stages are separate processes (so they can run side by side on a shared
machine) and each writes `<save>_parts/<stage>.json`; `report` joins them.

- simclr: `dlcc run cifar10-simclr` with `train.epochs=null train.time_budget_s=B
  train.clock=cpu`, where the cpu clock is process CPU time / torch threads, so B = CPU budget /
  threads. The probes (curve points, the final probe, the random-encoder floor) are not counted
  in the training budget; they are measured and reported apart.
- supervised: `dlcc run cifar10-fast` with the same encoder (`model.widths` as the SimCLR
  backbone: CifarFastNet is the fastnet backbone + a linear head) on all 50,000 labelled
  training images, the same CPU budget and clock, test accuracy monitored during training.

Bar (issue 18): within 60 CPU-minutes, the SimCLR probe >= the random-encoder probe + 20 points.
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

WIDTHS = "[32,64,128]"


def simclr_sets(budget_clock_s: float, eval_every: int, batch: int) -> list[str]:
    return ["train.epochs=null", f"train.time_budget_s={budget_clock_s:g}", "train.clock=cpu",
            f"train.eval_every={eval_every}", f"train.batch_size={batch}", f"model.widths={WIDTHS}",
            "probe.weight_decays=[1e-5,1e-4,1e-3]", "probe.max_iter=150"]


def supervised_sets(budget_clock_s: float, monitor_every: int) -> list[str]:
    return ["train.epochs=null", f"train.time_budget_s={budget_clock_s:g}", "train.clock=cpu",
            f"model.widths={WIDTHS}", "eval.monitor_test=true", f"eval.monitor_every_steps={monitor_every}",
            "eval.top_losses=0"]


def run_stage(stage: str, args, work: Path) -> dict:
    budget_clock = args.cpu_min * 60 / torch.get_num_threads()
    if stage == "simclr":
        recipe, sets = "cifar10-simclr", simclr_sets(budget_clock, args.eval_every, args.batch)
    else:
        recipe, sets = "cifar10-fast", supervised_sets(budget_clock, args.monitor_every)
    print(f"== dlcc run {recipe} " + " ".join(f"--set {s}" for s in sets), flush=True)
    load_before = os.getloadavg()
    cpu, wall = time.process_time(), time.perf_counter()
    out, m = run_recipe(recipe, sets, out=work / stage, progress=False,
                        log=lambda line: print(f"  [{stage}] {line}", flush=True))
    m["run_cpu_time_s"], m["run_wall_time_s"] = time.process_time() - cpu, time.perf_counter() - wall
    return {"stage": stage, "recipe": recipe, "overrides": sets, "out": str(out), "threads": torch.get_num_threads(),
            "cpu_budget_s": args.cpu_min * 60, "load_average_before": load_before,
            "load_average_after": os.getloadavg(), **m}


def curve_figure(simclr: dict, supervised: dict | None, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.subplots()
    t = simclr["threads"]
    pts = simclr.get("probe_curve") or []
    ax.plot([p["train_time_s"] * t / 60 for p in pts], [p["val_probe_accuracy"] for p in pts], "o-", color="C0",
            label="SimCLR: linear probe (held-out train images)")
    ax.axhline(simclr["test_accuracy"], color="C0", ls="--", label=f"SimCLR: final probe, test ({simclr['test_accuracy']:.3f})")
    ax.axhline(simclr["random_probe_accuracy"], color="C7", ls=":",
               label=f"random encoder: probe, test ({simclr['random_probe_accuracy']:.3f})")
    if supervised:
        st = supervised["threads"]
        sp = supervised.get("test_curve") or []
        if sp:
            ax.plot([p["train_time_s"] * st / 60 for p in sp], [p["test_accuracy"] for p in sp], "s-", color="C3",
                    label="supervised, same encoder (test)")
    ax.set_xlabel("training CPU-minutes (process CPU time, probes not counted)")
    ax.set_ylabel("accuracy on CIFAR-10")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def report(parts: Path, save: Path | None) -> int:
    simclr = json.loads((parts / "simclr.json").read_text())
    sup_path = parts / "supervised.json"
    supervised = json.loads(sup_path.read_text()) if sup_path.exists() else None
    gain = simclr["test_accuracy"] - simclr["random_probe_accuracy"]
    train_cpu_min = simclr["fit_cpu_time_s"] / 60
    rows = ["| run | threads | training CPU-min (fit) | whole run CPU-min | wall min (shared machine) | test accuracy |",
            "|---|---:|---:|---:|---:|---:|",
            f"| SimCLR pretraining + linear probe | {simclr['threads']} | {train_cpu_min:.1f} | "
            f"{simclr['run_cpu_time_s'] / 60:.1f} | {simclr['run_wall_time_s'] / 60:.1f} | **{simclr['test_accuracy']:.4f}** |",
            f"| random encoder (same architecture and init) + linear probe | - | 0 | - | - | {simclr['random_probe_accuracy']:.4f} |"]
    if supervised:
        rows.append(f"| supervised, same encoder + linear head (cifar10-fast recipe) | {supervised['threads']} | "
                    f"{supervised['fit_cpu_time_s'] / 60:.1f} | {supervised['run_cpu_time_s'] / 60:.1f} | "
                    f"{supervised['run_wall_time_s'] / 60:.1f} | {supervised['test_accuracy']:.4f} |")
    text = "\n".join(rows)
    ok = gain >= 0.20 and simclr["run_cpu_time_s"] <= 3600
    verdict = (f"Bar (SimCLR probe >= random-encoder probe + 20 points within 60 CPU-minutes): "
               f"{'met' if ok else 'NOT met'} - gain {100 * gain:+.1f} points "
               f"({simclr['test_accuracy']:.4f} vs {simclr['random_probe_accuracy']:.4f}), "
               f"{simclr['run_cpu_time_s'] / 60:.1f} CPU-minutes for the whole SimCLR run including probes"
               + ("" if ok else f"; short of the bar by {100 * (0.20 - gain):.1f} points" if gain < 0.20 else ""))
    detail = (f"SimCLR: {simclr['steps']} steps of {simclr['overrides'][4].split('=')[1]} images (2 views each), "
              f"probe weight decay {simclr['probe_weight_decay']:g} (chosen on a validation split of the training "
              f"images), random-encoder probe weight decay {simclr.get('random_probe_weight_decay')}; probes "
              f"took {simclr['probe_cpu_time_s'] / 60:.1f} CPU-min on top of training.")
    print(text + "\n\n" + verdict + "\n" + detail)
    if save:
        save.parent.mkdir(parents=True, exist_ok=True)
        png = save.parent / f"{save.name}_curve.png"
        curve_figure(simclr, supervised, png)
        info = machine_info()
        machine = "\n".join(f"- {k}: {v}" for k, v in info.items())
        curve = "\n".join(f"| {p['step']} | {p['train_time_s'] * simclr['threads'] / 60:.2f} | {p['val_probe_accuracy']:.4f} |"
                          for p in simclr.get("probe_curve") or [])
        save.with_suffix(".md").write_text(
            f"# SimCLR on CIFAR-10 on a CPU budget\n\n{text}\n\n{verdict}\n\n{detail}\n\n"
            f"Probe accuracy during pretraining (logistic regression on 5,000 training images, scored on 2,000 "
            f"other training images; the test split is not used): {png.name}\n\n"
            f"| step | training CPU-min | probe accuracy |\n|---:|---:|---:|\n{curve}\n\n"
            "Notes:\n- CPU time is process user + system time (all threads). The training budget is enforced "
            "on the loop's cpu clock (process CPU / torch threads); probes are outside it.\n"
            "- The encoder is dlcc.transfer's `fastnet` backbone, widths [32, 64, 128] (whitening conv "
            "initialised on the images without labels, three conv groups, global max-pool: 128 features).\n"
            "- The random encoder has the same architecture and the same initialisation, whitening included.\n"
            "- The supervised run is `cifar10-fast` with the same widths (CifarFastNet = the same backbone + a "
            "linear head) on all 50,000 labels, same CPU budget, same clock. Its fit CPU time also counts the "
            "test-accuracy monitor (every 80 steps, outside the training clock), so it exceeds the budget; both "
            "runs trained for the same CPU-minutes on the clock.\n"
            f"- Wall times are on a machine shared with other jobs ({LOAD_NOTE}); load averages are in the JSON.\n\n"
            f"Machine:\n{machine}\n\nCommands: python benchmarks/bench_simclr.py --stage simclr|supervised "
            f"--cpu-min {simclr['cpu_budget_s'] / 60:g} --threads {simclr['threads']}; --stage report --save {save}\n")
        keep = {"simclr": simclr, "supervised": supervised, "probe_gain": gain, "bar_met": ok, "machine": info}
        save.with_suffix(".json").write_text(json.dumps(keep, indent=2, default=str) + "\n")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=["simclr", "supervised", "report"], required=True)
    parser.add_argument("--cpu-min", type=float, default=10.0, help="training budget in CPU-minutes (all threads)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128, help="SimCLR images per step")
    parser.add_argument("--eval-every", type=int, default=150, help="SimCLR steps between curve probes")
    parser.add_argument("--monitor-every", type=int, default=80, help="supervised steps between test evaluations")
    parser.add_argument("--save", type=Path, default=Path("benchmarks/results/simclr"))
    parser.add_argument("--work", type=Path, default=None, help="run directories (default: a temp dir)")
    args = parser.parse_args(argv)
    parts = args.save.parent / f"{args.save.name}_parts"
    if args.stage == "report":
        return report(parts, args.save)
    torch.set_num_threads(args.threads)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-simclr-"))
    row = run_stage(args.stage, args, work)
    parts.mkdir(parents=True, exist_ok=True)
    (parts / f"{args.stage}.json").write_text(json.dumps(row, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in row.items() if not isinstance(v, (list, dict))}, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
