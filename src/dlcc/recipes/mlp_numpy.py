"""NumPy MLP recipes (Assignment 1): `mnist-mlp-numpy` and `digits-mlp-numpy`.

Both train a `dlcc.scratch` MLP with mini-batch SGD and report validation curves and a test
accuracy measured once at the end. `--preset course` reproduces A1's course setting: a
3-layer sigmoid MLP (200, 100 hidden), lr 5.0, batch 1000, L2 1e-4 on weights, 30 epochs,
no shuffling (the course's test expects accuracy > 0.94); `--set` still changes any of it.
`--set train.overfit_one_batch=true` is A1's debug mode: train on a single batch until it is
memorised. The NumPy engine has its own loop (`dlcc.scratch.fit`, written to be read), so
these recipes write no checkpoints and cannot be resumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from dlcc.config import section, setting
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.utils.io import write_json
from dlcc.utils.plots import plot_history

COURSE_PRESET = {
    "model.hidden": [200, 100], "model.activation": "sigmoid", "model.dropout": 0.0,
    "train.optimizer": "sgd", "train.lr": 5.0, "train.momentum": 0.0, "train.nesterov": False,
    "train.weight_decay": 0.0, "train.l2": 1e-4, "train.schedule": "none", "train.epochs": 30,
    "train.batch_size": 1000, "train.shuffle": False,
}


@dataclass
class NumpyData:
    val_size: int = setting(10000, "training images held out for validation", ge=1)


@dataclass
class NumpyModel:
    hidden: list[int] = setting([256, 128], "hidden layer sizes", ge=1)
    activation: Literal["relu", "leaky_relu", "sigmoid", "tanh", "gelu"] = setting("relu", "hidden activation")
    dropout: float = setting(0.0, "dropout after each hidden activation", ge=0, lt=1)
    dtype: Literal["float32", "float64"] = setting("float32", "floating-point type of weights and data")


@dataclass
class NumpyTrain:
    epochs: int = setting(15, "passes over the training data", ge=1)
    batch_size: int = setting(128, "examples per batch", ge=1)
    optimizer: Literal["sgd", "adam", "adamw"] = setting("sgd", "sgd (with momentum), adam or adamw")
    lr: float = setting(0.1, "learning rate (the peak of onecycle)", gt=0)
    momentum: float = setting(0.9, "SGD momentum", ge=0, lt=1)
    nesterov: bool = setting(True, "Nesterov momentum (sgd)")
    weight_decay: float = setting(0.0, "weight decay", ge=0)
    l2: float = setting(0.0, "A1's L2 term on weights: loss + l2 * sum ||W||^2", ge=0)
    schedule: Literal["none", "cosine", "step", "onecycle"] = setting("cosine", "learning-rate schedule")
    shuffle: bool = setting(True, "a new order each epoch (false: consecutive batches, as A1)")
    overfit_one_batch: bool = setting(False, "A1's debug mode: train on one batch until it is memorised")


@dataclass
class NumpyConfig:
    seed: int = setting(0, "seed for weights, the split and the order", ge=0)
    data: NumpyData = section(NumpyData)
    model: NumpyModel = section(NumpyModel)
    train: NumpyTrain = section(NumpyTrain)


@dataclass
class DigitsConfig(NumpyConfig):
    data: NumpyData = section(NumpyData, val_size=287)
    model: NumpyModel = section(NumpyModel, hidden=[64])
    train: NumpyTrain = section(NumpyTrain, epochs=30, lr=0.05, batch_size=32)

def split_train_val(x: np.ndarray, y: np.ndarray, val_size: int, seed: int):
    """Shuffle once with `seed` and hold out the first `val_size` samples for validation."""
    from dlcc.errors import ConfigError

    if not 0 < val_size < len(x):
        raise ConfigError(f"data.val_size={val_size} must be between 1 and {len(x) - 1}")
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:val_size], order[val_size:]
    return (x[train], y[train]), (x[val], y[val])


def standardize(train_x: np.ndarray, *others: np.ndarray):
    """Z-score with the scalar mean/std of the training split (as A1 did), applied to all."""
    mean, std = float(train_x.mean()), float(train_x.std())
    return [(a - mean) / std for a in (train_x, *others)], {"mean": mean, "std": std}


def _load(dataset: str, cfg: NumpyConfig):
    from dlcc import data

    raw = data.load_mnist() if dataset == "mnist" else data.load_digits()
    (x, y), (xt, yt) = raw["train"], raw["test"]
    dtype = np.dtype(cfg.model.dtype)
    x = x.reshape(len(x), -1).astype(dtype)
    xt = xt.reshape(len(xt), -1).astype(dtype)
    (xtr, ytr), (xv, yv) = split_train_val(x, y.astype(np.int64), cfg.data.val_size, cfg.seed)
    (xtr, xv, xt), stats = standardize(xtr, xv, xt)
    return (xtr, ytr), (xv, yv), (xt, yt.astype(np.int64)), stats


def _optimizer(model, t: NumpyTrain):
    from dlcc.scratch import optim

    if t.optimizer == "sgd":
        return optim.SGD(model, lr=t.lr, momentum=t.momentum, nesterov=t.nesterov, weight_decay=t.weight_decay)
    cls = optim.Adam if t.optimizer == "adam" else optim.AdamW
    return cls(model, lr=t.lr, weight_decay=t.weight_decay)


def _schedule(optimizer, t: NumpyTrain, steps_per_epoch: int):
    from dlcc.scratch import schedules

    if t.schedule == "cosine":
        return schedules.CosineAnnealingLR(optimizer, T_max=t.epochs)
    if t.schedule == "step":
        return schedules.StepLR(optimizer, step_size=max(t.epochs // 3, 1), gamma=0.1)
    if t.schedule == "onecycle":
        return schedules.OneCycleLR(optimizer, max_lr=t.lr, total_steps=t.epochs * steps_per_epoch)
    return None


def build_model(cfg: NumpyConfig, artifacts: dict):
    """The scratch MLP of `cfg.model` for `artifacts["input"]["features"]` inputs."""
    from dlcc.scratch.models import mlp

    sizes = [int(artifacts["input"]["features"]), *cfg.model.hidden, 10]
    return mlp(sizes, activation=cfg.model.activation, dropout=cfg.model.dropout, rng=cfg.seed,
               dtype=np.dtype(cfg.model.dtype))


def train_mlp(dataset: str, cfg: NumpyConfig, ctx: RunContext) -> dict:
    """Train and evaluate the scratch MLP; write curves, history and weights into ctx.out_dir."""
    from dlcc.scratch.fit import evaluate, fit, l2_penalty
    from dlcc.scratch.losses import cross_entropy

    t = cfg.train
    train, val, test, stats = _load(dataset, cfg)
    if t.overfit_one_batch:
        train = (train[0][: t.batch_size], train[1][: t.batch_size])
        val = train
    artifacts = {"input": {"features": int(train[0].shape[1]), **stats}, "classes": [str(i) for i in range(10)]}
    model = build_model(cfg, artifacts)
    optimizer = _optimizer(model, t)
    schedule = _schedule(optimizer, t, -(-len(train[0]) // t.batch_size))
    sizes = [train[0].shape[1], *cfg.model.hidden, 10]
    ctx.log(f"{dataset}: train {train[0].shape}, val {val[0].shape}, test {test[0].shape}; "
            f"MLP {sizes}, {model.num_parameters():,} parameters")
    tracker = ctx.open_tracker()
    try:
        def log_epoch(epoch: int, hist: dict) -> bool:
            tracker.log_metrics({k: v[-1] for k, v in hist.items() if v and k != "epoch"}, epoch)
            return False

        history = fit(model, cross_entropy, optimizer, train, val, epochs=t.epochs, batch_size=t.batch_size,
                      schedule=schedule, shuffle=t.shuffle, rng=cfg.seed,
                      regularizer=l2_penalty(t.l2) if t.l2 else None, progress=ctx.progress,
                      callback_per_epoch=log_epoch if tracker is not None else None)
        curves = plot_history(history, ctx.out_dir / "curves.png", title=f"{dataset} NumPy MLP {sizes}")
        write_json(ctx.out_dir / "history.json", history)
        np.savez(ctx.out_dir / "weights.npz", **model.state_dict())
        write_json(ctx.out_dir / "artifacts.json", artifacts)
        metrics = {"train_loss": history["train_loss"][-1], "train_accuracy": history["train_accuracy"][-1],
                   "val_loss": history["val_loss"][-1], "val_accuracy": history["val_accuracy"][-1],
                   "epochs_run": len(history["epoch"]), "n_params": model.num_parameters(),
                   "epoch_time_s": float(np.mean(history["time_s"])) if history["time_s"] else 0.0,
                   "train_time_s": float(np.sum(history["time_s"])), "selected_on": "last"}
        if not t.overfit_one_batch and ctx.evaluate_test:
            result = evaluate(model, cross_entropy, *test)
            metrics.update(test_loss=result["loss"], test_accuracy=result["accuracy"])
        if tracker is not None:
            tracker.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, t.epochs)
            tracker.log_figure("curves", curves, t.epochs)
    finally:
        if tracker is not None:
            tracker.close()
    return metrics


RECIPES = [
    Recipe(name="mnist-mlp-numpy",
           summary="A1: NumPy MLP on MNIST (50k/10k/10k), curves PNG; --preset course for A1's sigmoid net",
           data="mnist", config=NumpyConfig, run=lambda cfg, ctx: train_mlp("mnist", cfg, ctx),
           build_model=build_model, presets={"course": COURSE_PRESET}, tags=("numpy", "A1"), resumable=False,
           lightning=False, distributed=False),
    Recipe(name="digits-mlp-numpy",
           summary="NumPy MLP on scikit-learn's 8x8 digits (embedded, seconds)",
           data="digits", config=DigitsConfig, run=lambda cfg, ctx: train_mlp("digits", cfg, ctx),
           build_model=build_model, presets={"course": COURSE_PRESET}, tags=("numpy", "embedded"), resumable=False,
           lightning=False, distributed=False),
]
