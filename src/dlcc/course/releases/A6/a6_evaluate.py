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
    # TODO (A6.1): your code here
    # HINT: subtract each row's maximum before exponentiating
    raise NotImplementedError("A6.1: this part of classification_metrics() is not implemented yet")
    return metrics


def split_timings(metrics: dict) -> tuple[dict, dict]:
    """(stable, timings): the entries whose key ends in TIMING_SUFFIX go to `timings`, all
    others to `stable`. Neither dict shares an entry with the other."""
    # TODO (A6.2): your code here
    raise NotImplementedError("A6.2: this part of split_timings() is not implemented yet")
    return stable, timings


def write_json(path, data: dict) -> None:
    """Write `data` so that equal dicts give equal bytes, whatever order their keys were added
    in: keys sorted, indented by 2, one final newline, UTF-8."""
    # TODO (A6.2): your code here
    raise NotImplementedError("A6.2: this part of write_json() is not implemented yet")


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
    # TODO (A6.3): your code here
    # HINT: load_run(folder / "model") gives .model (a torch module in eval mode) and .labels
    raise NotImplementedError("A6.3: this part of evaluate_stage() is not implemented yet")
    return stable


if __name__ == "__main__":   # what dvc.yaml's evaluate stage runs
    evaluate_stage(".")
