"""MNIST-1D test accuracy of the `mnist1d-mlp` and `mnist1d-cnn` recipes vs the paper's table.

Greydanus (2020), "Scaling down deep learning", reports test accuracy on MNIST-1D (4,000 train /
1,000 test, generated with the package defaults): logistic regression 32%, MLP 68%, CNN 94%,
GRU 91%. Each recipe runs with its defaults for several seeds (model init, validation split,
batch order); the model is selected on the 500-signal validation split and the test split is
evaluated once. Writes benchmarks/results/train_mnist1d.{md,json}.

    python benchmarks/bench_train_mnist1d.py --seeds 0 1 2

Target (issue 6): reach or beat the paper (MLP >= 0.68, CNN >= 0.94).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, machine_markdown  # noqa: E402

from dlcc.recipes.runner import run_recipe  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PAPER = {"mnist1d-mlp": 0.68, "mnist1d-cnn": 0.94}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", action="append", default=[], help="extra overrides for both recipes")
    args = parser.parse_args()

    runs = []
    with tempfile.TemporaryDirectory(prefix="dlcc-bench-") as tmp:
        for recipe in PAPER:
            for seed in args.seeds:
                start = time.perf_counter()
                _, metrics = run_recipe(recipe, args.set, out=Path(tmp) / f"{recipe}-{seed}", seed=seed,
                                        progress=False, log=lambda line: None)
                runs.append({"recipe": recipe, "seed": seed, "test_accuracy": metrics["test_accuracy"],
                             "val_accuracy": metrics["val_accuracy"], "best_epoch": metrics["best_epoch"],
                             "seconds": round(time.perf_counter() - start, 1)})
                print(f"{recipe} seed {seed}: test {metrics['test_accuracy']:.4f} "
                      f"(val {metrics['val_accuracy']:.4f}, {runs[-1]['seconds']} s)", flush=True)

    rows = []
    for recipe, paper in PAPER.items():
        acc = [r["test_accuracy"] for r in runs if r["recipe"] == recipe]
        secs = [r["seconds"] for r in runs if r["recipe"] == recipe]
        rows.append({"recipe": recipe, "paper": paper, "mean": statistics.mean(acc), "min": min(acc),
                     "max": max(acc), "seeds": len(acc), "seconds_per_run": statistics.median(secs),
                     "meets_paper": min(acc) >= paper})
    table = ["| recipe | paper | test acc. mean | min | max | seeds | s/run (median) | >= paper (every seed) |",
             "|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['recipe']} | {r['paper']:.2f} | {r['mean']:.4f} | {r['min']:.4f} | {r['max']:.4f} | "
              f"{r['seeds']} | {r['seconds_per_run']:.1f} | {'yes' if r['meets_paper'] else 'NO'} |" for r in rows]
    text = "\n".join([
        "# MNIST-1D: dlcc recipes vs the paper's table",
        "",
        "Test accuracy on the 1,000 test signals of MNIST-1D (package defaults, seed 42), recipe "
        "defaults, model selected on a 500-signal validation split held out of the 4,000 training "
        "signals (so 3,500 are used for training). Paper: Greydanus 2020, MLP 68%, CNN 94%.",
        "",
        *table,
        "",
        "Overrides: " + (" ".join(args.set) or "none"),
        "",
        "Machine:",
        machine_markdown(),
        "",
    ])
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "train_mnist1d.md").write_text(text)
    (RESULTS / "train_mnist1d.json").write_text(json.dumps(
        {"rows": rows, "runs": runs, "machine": machine_info()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
