"""The course's small CNN (`cifar10-cnn`) on CIFAR-10 on the CPU: test accuracy and epoch time.

    python benchmarks/bench_cifar10_cnn.py [--epochs 3] [--set key=value ...]

Runs the recipe with its defaults (Adam lr 0.002, L2 0.0025, StepLR(5, 0.5), batch 128, crop +
flip augmentation, 3,000 validation images, best validation epoch kept) for `--epochs` epochs
and reports the test accuracy, the training time per epoch (validation not counted) and the
validation curve. Writes benchmarks/results/cifar10_cnn.{md,json}.

Target (issue 7): test accuracy >= 0.60.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, loadavg, machine_info, machine_markdown  # noqa: E402

import torch  # noqa: E402

from dlcc.recipes.runner import run_recipe  # noqa: E402
from dlcc.utils.io import read_yaml  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="cifar10-cnn")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], help="extra overrides")
    parser.add_argument("--name", default=None, help="results file stem (default: recipe name)")
    args = parser.parse_args()
    name = args.name or args.recipe.replace("-", "_")

    load = {"start": loadavg()}
    overrides = [f"train.epochs={args.epochs}", *args.set]
    with tempfile.TemporaryDirectory(prefix="dlcc-bench-") as tmp:
        start = time.perf_counter()
        run_dir, m = run_recipe(args.recipe, overrides, out=Path(tmp) / "run", progress=False, log=print)
        wall = time.perf_counter() - start
        history = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["history"]
        batch_size = read_yaml(run_dir / "config.yaml")["config"]["train"]["batch_size"]
    load["end"] = loadavg()
    rows = ["| epoch | train loss | train acc. | val loss | val acc. | training time (s) |", "|---|---|---|---|---|---|"]
    prev = 0.0
    for h in history:
        t = h.get("train_time_s", 0.0)
        rows.append(f"| {h['epoch']} | {h['train_loss']:.4f} | {h['train_accuracy']:.4f} | {h.get('val_loss', 0):.4f} | "
                    f"{h.get('val_accuracy', 0):.4f} | {t - prev:.0f} |")
        prev = t
    ok = m["test_accuracy"] >= 0.60
    text = "\n".join([
        f"# `{args.recipe}` on CIFAR-10, CPU",
        "",
        f"Recipe defaults plus: {' '.join(overrides)}. Test accuracy of the best validation epoch on the "
        "10,000 test images; training time excludes validation.",
        "",
        f"- test accuracy: **{m['test_accuracy']:.4f}** (best epoch {m.get('best_epoch')}; target >= 0.60: "
        f"**{'reached' if ok else 'NOT reached'}**)",
        f"- training time per epoch: **{m['epoch_time_s']:.0f} s** ({m['train_time_s']:.0f} s for {m['epochs_run']} "
        f"epochs; {m['steps']} steps of batch {batch_size})",
        f"- wall time of the whole run (data, validation, test, figures): {wall:.0f} s",
        f"- parameters: {m['n_params']:,}",
        "",
        *rows,
        "",
        f"Load average (1, 5, 15 min): start {load['start']}, end {load['end']}. " + LOAD_NOTE,
        "",
        "Machine:",
        machine_markdown(),
        "",
    ])
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text)
    (RESULTS / f"{name}.json").write_text(json.dumps({"recipe": args.recipe, "overrides": overrides, "metrics": m,
                                                      "history": history, "wall_s": round(wall, 1),
                                                      "loadavg": load, "machine": machine_info()}, indent=2))


if __name__ == "__main__":
    main()
