"""The stages `dvc repro` runs, each one `dlcc pipeline stage NAME` in the project folder.

Every stage reads params.yaml (params.py), fixes torch's thread count first, and writes only
its declared outputs, so DVC's record of inputs and outputs (dvc.lock) is the whole truth:

    prepare   -> data/{train,val,test}_{x,y}.npy, data/manifest.json
    train     data/ -> model/ (config.yaml, model.pt, history.json, curves.png, train_metrics.json)
    evaluate  model/, data/test_* -> metrics.json, timings.json, eval/predictions.csv
    export    model/ -> export/  (`dlcc export` itself; it lives with the commands)

metrics.json holds no timings (keys ending in `_time_s` go to timings.json), so the same
params, data and thread count give the same metrics.json, byte for byte.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from dlcc.pipeline.datasets import dataset_for, read_split, write_splits
from dlcc.pipeline.params import is_timing, load_params
from dlcc.utils.io import write_yaml

DATA, MODEL, EVAL, EXPORT = Path("data"), Path("model"), Path("eval"), Path("export")
METRICS, TIMINGS, TRAIN_METRICS = Path("metrics.json"), Path("timings.json"), "train_metrics.json"
STAGES = ("prepare", "train", "evaluate", "export")


def write_sorted_json(path: Path, data: dict) -> None:
    """Sorted keys and a final newline: the same values give the same bytes."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def prepare(settings, recipe, cfg) -> dict:
    """Materialise the recipe's data splits into data/ with a checksum manifest."""
    manifest = write_splits(dataset_for(recipe), cfg, DATA)
    return {"files": len(manifest["files"])}


def train(settings, recipe, cfg) -> dict:
    """Train the recipe's model on data/ with dlcc's training helper; model/ is a run directory
    that `load_run`, `dlcc predict` and `dlcc export` open like any other."""
    import torch

    from dlcc.config import to_dict
    from dlcc.train import RunContext, Task, TensorBatches, make_loader, train_and_report
    from dlcc.utils.seed import seed_everything

    dataset = dataset_for(recipe)
    MODEL.mkdir(parents=True, exist_ok=True)
    write_yaml(MODEL / "config.yaml", {"recipe": recipe.name, "device": "cpu", "pipeline": to_dict(settings),
                                       "config": to_dict(cfg)})
    # the order of `dlcc run`: seed, build the model, then the loaders (same weights, same batches)
    seed_everything(cfg.seed)
    model = recipe.build_model(cfg, dataset.artifacts)
    (x, y), (vx, vy) = read_split(DATA, "train"), read_split(DATA, "val")
    train_loader = make_loader(TensorBatches(torch.from_numpy(x), torch.from_numpy(y)), cfg.train.batch_size,
                               shuffle=True, seed=cfg.seed)
    val_loader = make_loader(TensorBatches(torch.from_numpy(vx), torch.from_numpy(vy)), 1000)
    task = Task(model, train_loader, val_loader, torch.nn.CrossEntropyLoss(), title=recipe.name,
                artifacts=dataset.artifacts)
    ctx = RunContext(out_dir=MODEL, device="cpu", seed=cfg.seed, progress=False, evaluate_test=False,
                     config=to_dict(cfg), name=recipe.name)
    metrics = train_and_report(task, cfg.train, ctx)
    write_sorted_json(MODEL / TRAIN_METRICS, metrics)
    return {k: metrics.get(k) for k in ("val_accuracy", "val_loss", "epochs_run")}


def classification_metrics(logits, targets, classes: list[str]) -> dict:
    """Test metrics with stable keys from logits float [N, K] and targets int64 [N] (the confusion
    matrix is a plot of eval/predictions.csv, not a metric: `dvc plots show`)."""
    from dlcc.metrics import per_class_accuracy, per_sample_cross_entropy

    pred = logits.argmax(1)
    per_class = per_class_accuracy(logits, targets, len(classes))
    return {"n_test": int(len(targets)),
            "test_accuracy": float((pred == targets).double().mean()),
            "test_loss": float(per_sample_cross_entropy(logits, targets).mean()),
            # a class with no test example has no accuracy: null, never NaN (metrics.json is strict JSON)
            "test_per_class_accuracy": {c: (None if a != a else float(a)) for c, a in zip(classes, per_class.tolist())}}


def evaluate(settings, recipe, cfg) -> dict:
    """Test the trained model once; metrics.json = test metrics + the training's non-timing ones."""
    import torch

    from dlcc.recipes import load_run

    start = time.perf_counter()
    run = load_run(MODEL)
    x, y = read_split(DATA, "test")
    with torch.no_grad():
        logits = torch.cat([run.model(torch.from_numpy(x[i:i + 1000])) for i in range(0, len(x), 1000)])
    targets = torch.from_numpy(y)
    metrics = classification_metrics(logits, targets, list(run.labels))
    trained = json.loads((MODEL / TRAIN_METRICS).read_text(encoding="utf-8"))
    metrics.update({k: v for k, v in trained.items() if not is_timing(k)})
    EVAL.mkdir(exist_ok=True)
    with open(EVAL / "predictions.csv", "w", newline="", encoding="utf-8") as fh:   # the confusion plot
        writer = csv.writer(fh)
        writer.writerow(["actual", "predicted"])
        writer.writerows(zip((run.labels[i] for i in y.tolist()), (run.labels[i] for i in logits.argmax(1).tolist())))
    timings = {k: v for k, v in trained.items() if is_timing(k)}
    timings["evaluate_time_s"] = round(time.perf_counter() - start, 3)
    write_sorted_json(METRICS, metrics)
    write_sorted_json(TIMINGS, timings)
    return {"test_accuracy": metrics["test_accuracy"]}


def run_stage(name: str, params: str | Path = "params.yaml", export=None) -> dict:
    """Run stage `name` in the current folder; `export(settings)` runs the export stage (the
    command layer passes `dlcc export` in). Returns a few numbers to print."""
    import torch

    settings, recipe, cfg = load_params(params)
    torch.set_num_threads(settings.threads)
    if name == "export":
        return export(settings)
    return {"prepare": prepare, "train": train, "evaluate": evaluate}[name](settings, recipe, cfg)
