"""What the PyTorch classification recipes share: optimizer and schedule from the config,
the callbacks (best model, early stopping, tracker, the caller's), `fit`, the final
evaluation and the curves plot. Each recipe module only builds its data and model.

Protocol (the same for every recipe): the model is selected on the validation split only
(`select`, default val_accuracy); the test split is evaluated once, at the end, with the
selected weights.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from dlcc.errors import ConfigError
from dlcc.recipes.registry import RunContext
from dlcc.train import BestModel, EarlyStopping, evaluate, fit, lr_find, make_scheduler, plot_history
from dlcc.train.schedules import OPTIONS, schedule_name
from dlcc.utils.device import choose_device
from dlcc.utils.io import write_json

OPTIMIZERS = ("sgd", "adam", "adamw")


def make_optimizer(params, cfg: dict) -> torch.optim.Optimizer:
    """`{"name": "sgd"|"adam"|"adamw", "lr", "momentum", "weight_decay"}` -> optimizer.

    SGD uses the course's momentum (0.9 by default); Adam/AdamW use betas (0.9, 0.999), eps 1e-8.
    """
    name = str(cfg.get("name", "sgd")).lower()
    lr, wd = float(cfg["lr"]), float(cfg.get("weight_decay", 0.0))
    if lr <= 0 or wd < 0:
        raise ConfigError(f"optimizer.lr must be > 0 and optimizer.weight_decay >= 0, got {lr}, {wd}",
                          fix="e.g. --set optimizer.lr=0.05")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=float(cfg.get("momentum", 0.9)), weight_decay=wd)
    if name in ("adam", "adamw"):
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    raise ConfigError(f"unknown optimizer {name!r}", fix=f"--set optimizer.name= one of {', '.join(OPTIMIZERS)}")


def check_common(cfg: dict) -> None:
    """Fail fast (before loading data) on settings every torch recipe shares."""
    for key in ("epochs", "batch_size", "val_size", "grad_accum_steps", "checkpoint_every"):
        if key in cfg and int(cfg[key]) < 1:
            raise ConfigError(f"{key} must be >= 1, got {cfg[key]}", fix=f"e.g. --set {key}=10")
    if cfg.get("select") not in ("val_accuracy", "val_loss"):
        raise ConfigError(f"select={cfg.get('select')!r}: models are selected on val_accuracy or val_loss",
                          fix="--set select=val_accuracy")
    schedule_name(cfg.get("scheduler"))
    if str(cfg["optimizer"].get("name", "sgd")).lower() not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {cfg['optimizer'].get('name')!r}",
                          fix=f"--set optimizer.name= one of {', '.join(OPTIMIZERS)}")


def _schedule(cfg: dict, optimizer, steps_per_epoch: int):
    name = schedule_name(cfg.get("scheduler"))
    options = {k: v for k, v in cfg.get("scheduler_options", {}).items() if k in OPTIONS[name]}
    if not options.get("warmup_steps"):
        options.pop("warmup_steps", None)  # 0 = the default (5% of the steps)
    return make_scheduler(name, optimizer, int(cfg["epochs"]), steps_per_epoch, **options)


def train_classifier(cfg: dict, ctx: RunContext, model: nn.Module, loaders: dict, title: str) -> dict:
    """Train `model` on loaders["train"], select on loaders["val"], test once on loaders["test"].

    Returns the metrics for metrics.json: test_accuracy, test_loss, val_accuracy, val_loss
    (of the selected weights), best_epoch, epochs_run, train_loss, train_accuracy, fit_time_s,
    num_parameters (test_* only when `ctx.evaluate_test`).
    """
    device = choose_device(ctx.device)
    model = model.to(device)
    optimizer = make_optimizer(model.parameters(), cfg["optimizer"])
    accum = int(cfg.get("grad_accum_steps", 1))
    steps_per_epoch = math.ceil(len(loaders["train"]) / accum)
    loss_fn = nn.CrossEntropyLoss()

    if cfg.get("lr_find"):  # the LR range test only informs; it does not change the settings
        found = lr_find(model, loaders["train"], loss_fn, optimizer, device=device,
                        plot_path=ctx.out_dir / "lr_find.png")
        ctx.log(f"LR range test: steepest descent at lr={found.steepest_lr:.3g}, "
                f"loss minimum at {found.min_loss_lr:.3g} (plot: {found.plot_path})")
    scheduler, interval = _schedule(cfg, optimizer, steps_per_epoch)

    mode = "max" if cfg["select"] == "val_accuracy" else "min"
    best = BestModel(cfg["select"], mode)
    callbacks = [best]
    stop_cfg = cfg.get("early_stopping", {})
    if int(stop_cfg.get("patience", 0)) > 0:
        callbacks.append(EarlyStopping(cfg["select"], patience=int(stop_cfg["patience"]),
                                       min_delta=float(stop_cfg.get("min_delta", 0.0)), mode=mode))
    tracker, tracking = ctx.open_tracker(cfg, log_params=False)
    callbacks += tracking
    callbacks.extend(ctx.callbacks)

    clip = float(cfg.get("clip_grad_norm", 0.0)) or None
    try:
        start = time.perf_counter()
        trainer = fit(model, loaders["train"], loaders["val"], loss_fn, optimizer, int(cfg["epochs"]),
                      scheduler=scheduler, scheduler_interval=interval, callbacks=callbacks,
                      device=device, grad_accum_steps=accum, clip_grad_norm=clip,
                      amp=str(cfg.get("amp", "auto")), out_dir=ctx.out_dir,
                      checkpoint_every=int(cfg.get("checkpoint_every", 1)), resume=ctx.resume,
                      progress=ctx.progress, config=cfg, log=ctx.log)
        fit_time = time.perf_counter() - start
        history = trainer.history
        curves = plot_history(history, ctx.out_dir / "curves.png", title=title)
        write_json(ctx.out_dir / "history.json", history)

        # `model` now holds the selected (best-validation) weights; report them.
        val = evaluate(model, loaders["val"], loss_fn, device)
        metrics = {"val_accuracy": val["accuracy"], "val_loss": val["loss"],
                   "best_epoch": best.best_epoch, "epochs_run": len(history),
                   "train_loss": history[-1]["train_loss"] if history else None,
                   "train_accuracy": history[-1].get("train_accuracy") if history else None,
                   "fit_time_s": round(fit_time, 3),
                   "num_parameters": sum(p.numel() for p in model.parameters())}
        if trainer.stop_reason:
            metrics["stop_reason"] = trainer.stop_reason
        if ctx.evaluate_test:
            test = evaluate(model, loaders["test"], loss_fn, device)
            metrics.update(test_accuracy=test["accuracy"], test_loss=test["loss"])
        if tracker is not None:
            tracker.log_figure("curves", curves, trainer.global_step)
            tracker.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))},
                                trainer.global_step)
    finally:
        if tracker is not None:
            tracker.close()
    return metrics
