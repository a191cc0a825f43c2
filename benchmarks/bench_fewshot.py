"""Meta-learning on classes never seen in meta-training: ProtoNet on MNIST and CIFAR-10,
first-order and second-order MAML on MNIST, each scored over 1,000 test episodes.

    python benchmarks/bench_fewshot.py [--cases protonet-mnist,maml-5w1s,...] [--episodes 1000]

Meta-training uses MNIST digits 0-4 (CIFAR-10 classes 0-4: airplane, automobile, bird, cat,
deer); test episodes use digits 5-9 (dog, frog, horse, ship, truck), test-split images. Each
case is one `dlcc run` of a recipe with the overrides listed in the table. Results are merged
into benchmarks/results/fewshot.json case by case (so cases may run in separate processes)
and fewshot.md is rewritten from it.

Bars (issue 18): ProtoNet 5-way 5-shot >= 0.95 on held-out MNIST digits and >= 0.55 on
held-out CIFAR-10 classes; the whole bench within about 30 CPU-minutes on one torch thread.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, loadavg, machine_info  # noqa: E402

from dlcc.recipes.runner import run_recipe  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "fewshot"
# Sizes cut to what a 2-core machine shared by ~8 helpers could run before a deadline (see NOTES).
MAML = ["train.steps=100", "train.eval_every=100", "fewshot.tasks_per_step=2", "fewshot.queries=10",
        "maml.test_inner_steps=5"]
PROTO = ["model.width=32"]
CASES = {   # name -> (recipe, overrides, bar or None); later overrides win
    "protonet-mnist-5w5s": ("mnist-protonet", [*PROTO, "train.steps=300", "train.eval_every=300"], 0.95),
    "protonet-cifar10-5w5s": ("cifar10-protonet", [*PROTO, "train.steps=600", "train.eval_every=600"], 0.55),
    "fomaml-mnist-5w1s": ("mnist-maml", [*MAML, "fewshot.shots=1"], None),
    "maml-mnist-5w1s": ("mnist-maml", [*MAML, "fewshot.shots=1", "maml.second_order=true"], None),
    "fomaml-mnist-5w5s": ("mnist-maml", [*MAML, "fewshot.shots=5", "maml.inner_steps=3", "fewshot.test_episodes=300"],
                          None),
    "maml-mnist-5w5s": ("mnist-maml", [*MAML, "fewshot.shots=5", "maml.inner_steps=3", "maml.second_order=true",
                                       "fewshot.test_episodes=300"], None),
}
NOTES = """Notes:
- CPU time is the process's user + system time over the whole case (data loading, meta-training,
  validation episodes, the test episodes); CPU-minutes = that / 60. One torch thread
  (torch.set_num_threads(1)): the 2-core machine was shared by about 8 helpers running their own
  jobs, so the wall times are longer than the CPU times and are listed only for the record.
- ± is the 95 % confidence interval over test episodes: 1.96 * std(episode accuracies) / sqrt(n).
  Each test episode: 5 unseen classes, K support images and Q query images per class (Q = 15 for
  ProtoNet, 10 for MAML), drawn
  from the test split by a fixed seed (the same episodes for every case of one dataset and K).
- Sizes were cut to what the shared machine could run before the deadline (load averages of 20-27
  on 2 cores while this ran; each case got about 3-8 % of a core): ProtoNet Conv-4 of width 32,
  300 steps (MNIST) and 600 steps (CIFAR-10), one 5-way 5-shot episode with 15 queries per class
  per step; MAML 100 meta-steps of 2 tasks with 10 queries per class. The recipes' defaults are
  larger (width 64; 2,000 / 3,000 / 1,000 steps). Each case ran in its own process, one torch
  thread each; CPU time is per process, the total is their sum.
- MAML: Conv-4 of width 32 with a 5-way head, 5 inner SGD steps of 0.4 in meta-training (3 for
  5-shot) and 5 at test time, Adam 1e-3 with a cosine schedule. "maml" differentiates through
  the inner gradients (Hessian-vector products by double backprop); "fomaml" treats them as
  constants. The 5-shot MAML cases are scored on 300 test episodes, not 1,000 (time).
- ProtoNet: Adam 1e-3 with a cosine schedule; CIFAR-10 episodes are augmented (crop, flip)."""


def run_case(name: str, episodes: int, work: Path) -> dict:
    recipe, sets, bar = CASES[name]
    sets = [f"fewshot.test_episodes={episodes}", "fewshot.val_episodes=50", *sets]
    print(f"== {name}: dlcc run {recipe} " + " ".join(f"--set {s}" for s in sets), flush=True)
    cpu, wall = time.process_time(), time.perf_counter()
    _, m = run_recipe(recipe, sets, out=work / name, progress=False, log=lambda line: print(f"  [{name}] {line}", flush=True))
    return {"case": name, "recipe": recipe, "overrides": sets, "bar": bar,
            "cpu_s": round(time.process_time() - cpu, 1), "wall_s": round(time.perf_counter() - wall, 1),
            **{k: m[k] for k in ("test_accuracy", "test_ci95", "test_episodes", "test_ways", "test_shots",
                                 "val_accuracy", "steps", "fit_cpu_time_s", "n_params") if k in m}}


def merge(rows: list[dict]) -> dict:
    """Add `rows` to fewshot.json under a lock (cases may finish in parallel processes)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = RESULTS.with_suffix(".json")
        data = json.loads(path.read_text()) if path.is_file() else {"cases": {}}
        for r in rows:
            data["cases"][r["case"]] = {**r, "machine": machine_info(), "load": loadavg()}
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")
        RESULTS.with_suffix(".md").write_text(markdown(data))
    return data


def markdown(data: dict) -> str:
    rows = [data["cases"][c] for c in CASES if c in data["cases"]]
    lines = ["# Few-shot learning on unseen classes (issue 18, part 5)", "",
             "| case | recipe | K | steps | test accuracy ± 95 % CI | episodes | bar | CPU-min | wall min |",
             "|---|---|---:|---:|---:|---:|---|---:|---:|"]
    verdicts = []
    for r in rows:
        bar = "" if r["bar"] is None else (f">= {r['bar']}: " + ("met" if r["test_accuracy"] >= r["bar"] else "NOT met"))
        lines.append(f"| {r['case']} | {r['recipe']} | {r['test_shots']} | {r['steps']} | "
                     f"**{r['test_accuracy']:.4f}** ± {r['test_ci95']:.4f} | {r['test_episodes']} | {bar} | "
                     f"{r['cpu_s'] / 60:.1f} | {r['wall_s'] / 60:.1f} |")
        if r["bar"] is not None and r["test_accuracy"] < r["bar"]:
            verdicts.append(f"- {r['case']}: {r['test_accuracy']:.4f} is {r['bar'] - r['test_accuracy']:.4f} below "
                            f"the bar {r['bar']}.")
    total = sum(r["cpu_s"] for r in rows) / 60
    lines += ["", f"Total: {total:.1f} CPU-minutes for {len(rows)} case(s) (budget about 30).", *verdicts, "",
              "Overrides per case:", *[f"- {r['case']}: `dlcc run {r['recipe']} "
                                      + " ".join(f"--set {s}" for s in r["overrides"]) + "`" for r in rows],
              "", NOTES, "", LOAD_NOTE, ""]
    machine = rows[-1]["machine"] if rows else machine_info()
    lines += ["## Machine (of the last case)", "", *[f"- {k}: {v}" for k, v in machine.items()],
              f"- load averages at its end: {rows[-1]['load'] if rows else loadavg()}", "",
              "Command: python benchmarks/bench_fewshot.py [--cases ...]", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    parser.add_argument("--episodes", type=int, default=1000, help="test episodes per case")
    parser.add_argument("--report-only", action="store_true", help="rewrite fewshot.md from fewshot.json")
    args = parser.parse_args(argv)
    if args.report_only:
        print(merge([])["cases"].keys())
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-fewshot-"))
    for name in args.cases.split(","):
        if name not in CASES:
            parser.error(f"unknown case {name!r}; choose from {', '.join(CASES)}")
        row = run_case(name, args.episodes, work)
        print(f"== {name}: {row['test_accuracy']:.4f} ± {row['test_ci95']:.4f} in {row['cpu_s'] / 60:.1f} CPU-min",
              flush=True)
        data = merge([row])
    print(markdown(data))
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.environ.setdefault("MPLBACKEND", "Agg")
    raise SystemExit(main())
