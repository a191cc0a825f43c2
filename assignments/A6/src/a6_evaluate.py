"""Assignment 6: the evaluate stage of a versioned pipeline.

`dlcc pipeline init mnist1d-mlp DIR` writes a DVC project whose stages are
prepare -> train -> evaluate -> export (see docs/pipeline.md). You write the evaluate stage:
DVC runs this file as `python a6_evaluate.py` in the project folder after the train stage,
and it must

  1. read params.yaml and fix torch's thread count (`pipeline.threads`),
  2. load the trained model from `model/` (a dlcc run directory) and the test arrays from
     `data/test_x.npy` (float32 [N, 40]) and `data/test_y.npy` (int64 [N]), never unpickling
     (np.load's allow_pickle=False: a data file must not be able to run code),
  3. compute the test metrics (A6.1) and add the training's metrics from
     `model/train_metrics.json`,
  4. write metrics.json without any timing (A6.2), timings.json with every timing, and
     eval/predictions.csv (columns actual,predicted: class names) for the confusion plot.

metrics.json must be the same, byte for byte, whenever the same model is evaluated: DVC
compares it across experiments (`dvc metrics diff`), and a fresh clone of the project must
reproduce it. That is why timings (which change from run to run) live in another file.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np

TIMING_SUFFIX = "_time_s"   # keys ending like this are timings (train_time_s, epoch_time_s, ...)


def classification_metrics(logits, targets, classes: list[str]) -> dict:
    """Test metrics of a classifier.

    Args:
        logits: float array [N, K], the model's scores (before softmax).
        targets: int array [N], true class indices in 0..K-1.
        classes: the K class names.

    Returns:
        {"n_test": N (int),
         "test_accuracy": fraction of rows whose largest logit is the target (float),
         "test_loss": mean cross-entropy, natural log (float; compute log-softmax stably),
         "test_per_class_accuracy": {class name: accuracy among that class's rows, or None when
                                     the class has no row}}
    """
    # === BEGIN SOLUTION A6.1 ===
    # HINT: subtract each row's maximum before exponentiating
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.int64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    predicted = logits.argmax(axis=1)
    per_class = {}
    for index, name in enumerate(classes):
        rows = targets == index
        per_class[name] = float((predicted[rows] == index).mean()) if rows.any() else None
    metrics = {"n_test": int(len(targets)),
               "test_accuracy": float((predicted == targets).mean()),
               "test_loss": float(-log_probs[np.arange(len(targets)), targets].mean()),
               "test_per_class_accuracy": per_class}
    # === END SOLUTION ===
    return metrics


def split_timings(metrics: dict) -> tuple[dict, dict]:
    """(stable, timings): the entries whose key ends in TIMING_SUFFIX go to `timings`, all
    others to `stable`. Neither dict shares an entry with the other."""
    # === BEGIN SOLUTION A6.2 ===
    stable = {k: v for k, v in metrics.items() if not k.endswith(TIMING_SUFFIX)}
    timings = {k: v for k, v in metrics.items() if k.endswith(TIMING_SUFFIX)}
    # === END SOLUTION ===
    return stable, timings


def write_json(path, data: dict) -> None:
    """Write `data` so that equal dicts give equal bytes, whatever order their keys were added
    in: keys sorted, indented by 2, one final newline, UTF-8."""
    # === BEGIN SOLUTION A6.2 ===
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    # === END SOLUTION ===


def evaluate_stage(folder=".") -> dict:
    """Run the evaluate stage in the pipeline folder `folder` (steps 1-4 in the module
    docstring) and return what was written to metrics.json.

    metrics.json = classification_metrics(...) of the test split, plus every entry of
    model/train_metrics.json that is not a timing. timings.json = the training's timings plus
    "evaluate_time_s": the seconds this stage took by time.perf_counter(), from just after
    setting the thread count to just before writing the JSON files, rounded to 3 decimals.
    eval/predictions.csv: a header row `actual,predicted`, then one row per test example, as
    class names. When it returns, torch's thread count is params.yaml's `pipeline.threads`.
    """
    import torch
    import yaml

    from dlcc.recipes import load_run

    folder = Path(folder)
    # === BEGIN SOLUTION A6.3 ===
    # HINT: load_run(folder / "model") gives .model (a torch module in eval mode) and .labels
    params = yaml.safe_load((folder / "params.yaml").read_text(encoding="utf-8"))
    torch.set_num_threads(int(params["pipeline"]["threads"]))
    start = time.perf_counter()
    run = load_run(folder / "model")
    x = np.load(folder / "data" / "test_x.npy", allow_pickle=False)
    y = np.load(folder / "data" / "test_y.npy", allow_pickle=False)
    with torch.no_grad():
        logits = run.model(torch.from_numpy(x)).numpy()
    metrics = classification_metrics(logits, y, list(run.labels))
    trained = json.loads((folder / "model" / "train_metrics.json").read_text(encoding="utf-8"))
    stable, timings = split_timings({**trained, **metrics})
    (folder / "eval").mkdir(exist_ok=True)
    with open(folder / "eval" / "predictions.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["actual", "predicted"])
        writer.writerows((run.labels[a], run.labels[p]) for a, p in zip(y.tolist(), logits.argmax(1).tolist()))
    timings["evaluate_time_s"] = round(time.perf_counter() - start, 3)
    write_json(folder / "metrics.json", stable)
    write_json(folder / "timings.json", timings)
    # === END SOLUTION ===
    return stable


if __name__ == "__main__":   # what dvc.yaml's evaluate stage runs
    evaluate_stage(".")
