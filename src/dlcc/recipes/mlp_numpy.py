"""NumPy MLP recipes (Assignment 1): `mnist-mlp-numpy` and `digits-mlp-numpy`.

Both train a `dlcc.scratch` MLP with mini-batch SGD and report validation curves and a test
accuracy measured once at the end. `--set preset=course` reproduces A1's course setting: a
3-layer sigmoid MLP (200, 100 hidden), lr 5.0, batch 1000, L2 1e-4 on weights, 30 epochs,
no shuffling (the course's test expects accuracy > 0.94). `--set overfit_one_batch=true` is
A1's debug mode: train on a single batch until it is memorised.
"""

from __future__ import annotations

import copy

import numpy as np

from dlcc.recipes.registry import Recipe, RunContext
from dlcc.utils.io import write_json
from dlcc.utils.plots import plot_history

COURSE_PRESET = {
    "model": {"hidden": [200, 100], "activation": "sigmoid", "dropout": 0.0},
    "optimizer": {"name": "sgd", "lr": 5.0, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
    "l2": 1e-4, "schedule": "none", "epochs": 30, "batch_size": 1000, "shuffle": False,
}


def _defaults(epochs: int, hidden: list[int], lr: float, batch_size: int) -> dict:
    return {
        "seed": 0,
        "preset": "none",                # "course" applies COURSE_PRESET
        "data": {"val_size": 10000},
        "model": {"hidden": hidden, "activation": "relu", "dropout": 0.0},
        "optimizer": {"name": "sgd", "lr": lr, "momentum": 0.9, "nesterov": True, "weight_decay": 0.0},
        "l2": 0.0,                       # A1's L2 on weights: loss + l2 * sum ||W||^2
        "schedule": "cosine",            # none | cosine | step | onecycle
        "epochs": epochs,
        "batch_size": batch_size,
        "shuffle": True,
        "overfit_one_batch": False,
        "dtype": "float32",
    }


def _apply_preset(cfg: dict) -> dict:
    if cfg.get("preset") in (None, "none"):
        return cfg
    if cfg["preset"] != "course":
        from dlcc.errors import ConfigError

        raise ConfigError(f"unknown preset {cfg['preset']!r}", fix="use --set preset=course or preset=none")
    merged = copy.deepcopy(cfg)
    for key, value in COURSE_PRESET.items():
        if isinstance(value, dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


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


def _load(dataset: str, cfg: dict):
    from dlcc import data

    if dataset == "mnist":
        raw = data.load_mnist()
    else:
        raw = data.load_digits()
    (x, y), (xt, yt) = raw["train"], raw["test"]
    dtype = np.dtype(cfg["dtype"])
    x = x.reshape(len(x), -1).astype(dtype)
    xt = xt.reshape(len(xt), -1).astype(dtype)
    val_size = cfg["data"]["val_size"] if dataset == "mnist" else min(cfg["data"]["val_size"], len(x) // 5)
    (xtr, ytr), (xv, yv) = split_train_val(x, y.astype(np.int64), val_size, cfg["seed"])
    (xtr, xv, xt), stats = standardize(xtr, xv, xt)
    return (xtr, ytr), (xv, yv), (xt, yt.astype(np.int64)), stats


def _optimizer(model, cfg: dict):
    from dlcc.errors import ConfigError
    from dlcc.scratch import optim

    o = cfg["optimizer"]
    name = o["name"].lower()
    if name == "sgd":
        return optim.SGD(model, lr=o["lr"], momentum=o["momentum"], nesterov=o["nesterov"],
                         weight_decay=o["weight_decay"])
    if name == "adam":
        return optim.Adam(model, lr=o["lr"], weight_decay=o["weight_decay"])
    if name == "adamw":
        return optim.AdamW(model, lr=o["lr"], weight_decay=o["weight_decay"])
    raise ConfigError(f"optimizer.name={o['name']!r} is not one of sgd, adam, adamw")


def _schedule(optimizer, cfg: dict, steps_per_epoch: int):
    from dlcc.errors import ConfigError
    from dlcc.scratch import schedules

    name, epochs = cfg["schedule"], cfg["epochs"]
    if name == "none":
        return None
    if name == "cosine":
        return schedules.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    if name == "step":
        return schedules.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "onecycle":
        return schedules.OneCycleLR(optimizer, max_lr=cfg["optimizer"]["lr"],
                                    total_steps=max(epochs * steps_per_epoch, 1))
    raise ConfigError(f"schedule={name!r} is not one of none, cosine, step, onecycle")


def train_mlp(dataset: str, cfg: dict, ctx: RunContext) -> dict:
    """Train and evaluate the scratch MLP; write curves, history and weights into ctx.out_dir."""
    from dlcc.scratch.fit import evaluate, fit, l2_penalty
    from dlcc.scratch.losses import cross_entropy
    from dlcc.scratch.models import mlp

    cfg = _apply_preset(cfg)
    train, val, test, stats = _load(dataset, cfg)
    if cfg["overfit_one_batch"]:
        train = (train[0][: cfg["batch_size"]], train[1][: cfg["batch_size"]])
        val = train
    sizes = [train[0].shape[1], *cfg["model"]["hidden"], 10]
    model = mlp(sizes, activation=cfg["model"]["activation"], dropout=cfg["model"]["dropout"],
                rng=cfg["seed"], dtype=np.dtype(cfg["dtype"]))
    optimizer = _optimizer(model, cfg)
    steps = -(-len(train[0]) // cfg["batch_size"])
    schedule = _schedule(optimizer, cfg, steps)
    ctx.log(f"{dataset}: train {train[0].shape}, val {val[0].shape}, test {test[0].shape}; "
            f"MLP {sizes}, {model.num_parameters():,} parameters")
    history = fit(model, cross_entropy, optimizer, train, val, epochs=cfg["epochs"],
                  batch_size=cfg["batch_size"], schedule=schedule, shuffle=cfg["shuffle"],
                  rng=cfg["seed"], regularizer=l2_penalty(cfg["l2"]) if cfg["l2"] else None,
                  progress=ctx.progress)
    plot_history(history, ctx.out_dir / "curves.png", title=f"{dataset} NumPy MLP {sizes}")
    write_json(ctx.out_dir / "history.json", history)
    np.savez(ctx.out_dir / "weights.npz", **model.state_dict())
    metrics = {"train_loss": history["train_loss"][-1], "train_accuracy": history["train_accuracy"][-1],
               "val_loss": history["val_loss"][-1], "val_accuracy": history["val_accuracy"][-1],
               "epochs_run": len(history["epoch"]), "num_parameters": model.num_parameters(),
               "epoch_time_s": float(np.mean(history["time_s"])) if history["time_s"] else 0.0,
               "train_time_s": float(np.sum(history["time_s"]))}
    if not cfg["overfit_one_batch"] and ctx.evaluate_test:
        result = evaluate(model, cross_entropy, *test)
        metrics.update(test_loss=result["loss"], test_accuracy=result["accuracy"])
    return metrics


RECIPES = [
    Recipe(name="mnist-mlp-numpy",
           summary="A1: NumPy MLP on MNIST (50k/10k/10k), curves PNG; --set preset=course for A1's sigmoid net",
           data="mnist", defaults=_defaults(epochs=15, hidden=[256, 128], lr=0.1, batch_size=128),
           run=lambda cfg, ctx: train_mlp("mnist", cfg, ctx), tags=("numpy", "A1")),
    Recipe(name="digits-mlp-numpy",
           summary="NumPy MLP on scikit-learn's 8x8 digits (embedded, seconds)",
           data="digits", defaults=_defaults(epochs=30, hidden=[64], lr=0.05, batch_size=32),
           run=lambda cfg, ctx: train_mlp("digits", cfg, ctx), tags=("numpy", "embedded")),
]
