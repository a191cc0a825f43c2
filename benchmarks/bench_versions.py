"""The same recipe runs with two versions of dlcc, side by side: did results hold, did times grow?

    git worktree add /tmp/dlcc-old <REV>
    python benchmarks/bench_versions.py --old /tmp/dlcc-old --save benchmarks/results/versions_issue12

Each case runs `python -m dlcc run ...` once with the old source tree and once with this one
(PYTHONPATH selects the tree), interleaved (old, new, old, new, ...) so that both see the same
machine load; the settings are spelled in each version's own vocabulary. Reported per run: the
child process's CPU time (user + system; on a shared machine far steadier than wall time), wall
time, the recipe's own training time, and its headline metric. The ratio new / old of CPU time
is the figure to read: above 1 the new version is slower.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import loadavg, machine_info  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# name -> (recipe, old --set values, new --set values, headline metric)
CASES = {
    "digits-mlp-numpy": ("digits-mlp-numpy", [], [], "test_accuracy"),
    "mnist1d-mlp": ("mnist1d-mlp", [], [], "test_accuracy"),
    "mnist1d-cnn": ("mnist1d-cnn", [], [], "test_accuracy"),
    "char-gpt": ("char-gpt", [], [], "val_loss_full_text|val_loss"),
    "ecg-rpeak-tcn (3 epochs)": ("ecg-rpeak-tcn", ["train.epochs=3"], ["train.epochs=3"], "test_f1"),
    "cifar10-cnn (10k images, 2 epochs)": ("cifar10-cnn", ["epochs=2", "subset=10000", "val_size=1000"],
                                           ["train.epochs=2", "data.subset=10000", "data.val_size=1000"],
                                           "test_accuracy"),
    "cifar10-fast (20k images, 2 epochs)": ("cifar10-fast", ["epochs=2", "subset=20000"],
                                            ["train.epochs=2", "data.subset=20000"], "test_accuracy"),
    "isbi-unet (3 epochs)": ("isbi-unet", ["epochs=3"], ["train.epochs=3"], "test_dice"),
}


def run_once(tree: Path, recipe: str, sets: list[str], out: Path, threads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, "-m", "dlcc", "run", recipe, "--out", str(out), "--no-progress", "--json"]
    if sets:
        cmd += ["--set", *sets]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    return {"cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), "wall_s": wall,
            "train_time_s": metrics.get("train_time_s"), "metrics": metrics}


def headline(metrics: dict, spec: str) -> tuple[str, float | None]:
    for key in spec.split("|"):
        if metrics.get(key) is not None:
            return key, metrics[key]
    return spec, None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="a checkout of the old version (git worktree)")
    parser.add_argument("--cases", nargs="*", default=list(CASES), help="which cases (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads per run")
    parser.add_argument("--save", type=Path, help="write <save>.md and <save>.json")
    args = parser.parse_args(argv)
    old_rev = subprocess.run(["git", "-C", str(args.old), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
    new_rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip() + " + working tree"
    rows, load = [], [loadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases:
            recipe, old_sets, new_sets, metric = CASES[name]
            print(f"== {name}", flush=True)
            old = run_once(args.old, recipe, old_sets, Path(tmp) / f"old-{len(rows)}", args.threads)
            new = run_once(REPO, recipe, new_sets, Path(tmp) / f"new-{len(rows)}", args.threads)
            key_old, value_old = headline(old["metrics"], metric)
            key_new, value_new = headline(new["metrics"], metric)
            rows.append({"case": name, "old": old, "new": new, "metric_old": [key_old, value_old],
                         "metric_new": [key_new, value_new], "cpu_ratio": new["cpu_s"] / old["cpu_s"]})
            print(f"   old {key_old}={value_old} cpu {old['cpu_s']:.1f}s | new {key_new}={value_new} "
                  f"cpu {new['cpu_s']:.1f}s | ratio {rows[-1]['cpu_ratio']:.3f}", flush=True)
            load.append(loadavg())
    lines = [f"# dlcc {new_rev} vs {old_rev}: the same runs, side by side", "",
             f"{args.threads} torch thread(s) per run; runs interleaved (old, new) so both see the same load.",
             "CPU = user + system time of the run's process; the ratio new/old of it is the comparison "
             "(wall time on a shared machine varies with what else runs).", "",
             "| case | metric | old | new | CPU old | CPU new | new/old | wall old | wall new |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['metric_new'][0]} | {_num(r['metric_old'][1])} | {_num(r['metric_new'][1])} | "
                     f"{r['old']['cpu_s']:.1f} s | {r['new']['cpu_s']:.1f} s | **{r['cpu_ratio']:.3f}** | "
                     f"{r['old']['wall_s']:.1f} s | {r['new']['wall_s']:.1f} s |")
    total_old = sum(r["old"]["cpu_s"] for r in rows)
    total_new = sum(r["new"]["cpu_s"] for r in rows)
    lines += ["", f"All cases: CPU {total_old:.1f} s old, {total_new:.1f} s new, ratio **{total_new / total_old:.3f}**.",
              "", "## Machine", ""] + [f"- {k}: {v}" for k, v in machine_info().items()]
    lines.append(f"- load averages during the runs (1/5/15 min): {load}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.with_suffix(".md").write_text(text)
        args.save.with_suffix(".json").write_text(json.dumps({"old": old_rev, "new": new_rev, "rows": rows,
                                                              "load": load}, indent=2, default=str) + "\n")
    return 0


def _num(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    sys.exit(main())
