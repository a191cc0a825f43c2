"""PGD-20 robustness of cifar10-fast, standard and adversarially trained (issue 14's bars).

    python benchmarks/bench_robust.py [--budget-cpu-min 50] [--standard-epochs 4]

1. A standard `cifar10-fast` run (`--standard-epochs` epochs, default settings otherwise) with
   `adversarial.evaluate=true`: PGD-20 (L-inf, random start, step 2.5 eps / 20) at eps = 8/255 on
   1,000 seeded test images. Bar: accuracy under 5 %.
2. The same recipe with fast adversarial training (`adversarial.enabled=true`, N-FGSM) for a
   training budget of `--budget-cpu-min` CPU-minutes (`train.clock=cpu`: the process's CPU time,
   so the budget does not depend on what else runs on the machine), with PGD-20 accuracy on 500
   test images and clean accuracy on the whole test set after every epoch (outside the clock).
   Bar: PGD-20 accuracy >= 30 % at eps = 8/255 within 60 CPU-minutes, the whole run's CPU
   time (evaluations included) reported beside the training budget.

Both runs are `dlcc run` subprocesses. Writes benchmarks/results/robust_cifar10.{md,json} and
robust_cifar10.png (robust and clean accuracy against training CPU-minutes).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def dlcc_run(out: Path, *settings: str) -> tuple[dict, list, float]:
    """(metrics, history, CPU seconds of the whole run) of `dlcc run cifar10-fast --set settings`."""
    before = children_cpu()
    cmd = [sys.executable, "-m", "dlcc", "run", "cifar10-fast", "--out", str(out), "--no-progress"]
    for s in settings:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True)
    cpu = children_cpu() - before
    return json.loads((out / "metrics.json").read_text()), json.loads((out / "history.json").read_text()), cpu


def plot(history: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [h["train_time_s"] / 60 for h in history]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(minutes, [h["test_accuracy"] for h in history], "o-", label="clean (10,000 test images)")
    ax.plot(minutes, [h["test_pgd_accuracy"] for h in history], "s-", label="PGD-20, eps 8/255 (500 test images)")
    ax.axhline(0.30, color="grey", ls="--", lw=0.8, label="bar: 30 % robust")
    ax.set_xlabel("training CPU-minutes")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("cifar10-fast with N-FGSM adversarial training")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget-cpu-min", type=float, default=50.0, help="adversarial training budget")
    parser.add_argument("--standard-epochs", type=int, default=4)
    parser.add_argument("--save", default=str(RESULTS / "robust_cifar10"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        std, _, std_cpu = dlcc_run(Path(tmp) / "standard", f"train.epochs={args.standard_epochs}",
                                   "adversarial.evaluate=true")
        adv, history, adv_cpu = dlcc_run(
            Path(tmp) / "adversarial", "adversarial.enabled=true", "train.epochs=null", "train.clock=cpu",
            f"train.time_budget_s={args.budget_cpu_min * 60:.0f}", "adversarial.monitor_images=500",
            "eval.monitor_test=true")
    save = Path(args.save)
    plot(history, save.with_suffix(".png"))
    rows = {"standard": {"epochs": args.standard_epochs, "cpu_min": std_cpu / 60,
                         "test_accuracy": std["test_accuracy"], "pgd_accuracy": std["test_pgd_accuracy"],
                         "pgd_clean_accuracy": std["test_pgd_clean_accuracy"]},
            "adversarial": {"epochs": adv.get("epochs_run"), "train_cpu_min": adv["train_time_s"] / 60,
                            "cpu_min": adv_cpu / 60, "test_accuracy": adv["test_accuracy"],
                            "pgd_accuracy": adv["test_pgd_accuracy"],
                            "pgd_clean_accuracy": adv["test_pgd_clean_accuracy"]},
            "curve": [{k: h[k] for k in ("epoch", "train_time_s", "test_accuracy", "test_pgd_accuracy")}
                      for h in history]}
    s, a = rows["standard"], rows["adversarial"]
    lines = ["# PGD-20 robustness of cifar10-fast (eps = 8/255)", "",
             "PGD: L-inf, 20 steps of 2.5 eps / 20 from a random start, on 1,000 seeded test images (no TTA). "
             "CPU-minutes: process CPU time (user + system) / 60 of the whole `dlcc run`.", "",
             "| model | epochs | training CPU-min | run CPU-min | clean test accuracy (TTA) | clean on the 1,000 | PGD-20 "
             "accuracy | bar |", "|---|---|---|---|---|---|---|---|",
             f"| standard | {s['epochs']} | - | {s['cpu_min']:.1f} | {s['test_accuracy']:.4f} | "
             f"{s['pgd_clean_accuracy']:.4f} | {s['pgd_accuracy']:.4f} | < 0.05: "
             f"{'met' if s['pgd_accuracy'] < 0.05 else 'NOT met'} |",
             f"| N-FGSM adversarial | {a['epochs']} | {a['train_cpu_min']:.1f} | {a['cpu_min']:.1f} | "
             f"{a['test_accuracy']:.4f} | {a['pgd_clean_accuracy']:.4f} | {a['pgd_accuracy']:.4f} | >= 0.30 within "
             f"60 CPU-min: {'met' if a['pgd_accuracy'] >= 0.30 and a['cpu_min'] <= 60 else 'NOT met'} |", "",
             "Curve (after each epoch; PGD-20 on 500 test images, clean on all 10,000): "
             + "; ".join(f"{c['train_time_s'] / 60:.1f} min: {c['test_accuracy']:.3f} / {c['test_pgd_accuracy']:.3f}"
                         for c in rows["curve"]), "", f"Plot: {save.with_suffix('.png').name}"]
    report(lines, save, rows)


if __name__ == "__main__":
    main()
