"""What the CIFAR-10 recipes share: tensor loaders, the training run, the final test report.

Protocol: models are selected on the validation split (`select`, default val_accuracy; "last"
keeps the final weights, e.g. when there is no validation split); the test split is evaluated
once, at the end, and gives `test_accuracy`, `test_loss`, per-class accuracy, the confusion
matrix (confusion.png) and the highest-loss test images (top_losses.png).

`train_time_s` is training time only (see `TrainClock`); `time_budget_s > 0` stops training
after that many seconds of it, then evaluates.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from dlcc.errors import ConfigError
from dlcc.recipes._torch import make_optimizer
from dlcc.recipes._vision_callbacks import EvalMonitor, TrainClock
from dlcc.recipes._vision_figures import plot_confusion, plot_top_losses
from dlcc.recipes.registry import RunContext
from dlcc.train import BestModel, EarlyStopping, fit, make_scheduler, plot_history
from dlcc.train.schedules import OPTIONS, schedule_name
from dlcc.utils.device import choose_device

SELECT = ("val_accuracy", "val_loss", "last")


def check_classifier_config(cfg: dict) -> None:
    """Fail fast, before data is loaded, on settings the CIFAR recipes share."""
    from dlcc.data.cifar_gpu import check_augment

    for key in ("epochs", "batch_size"):
        if int(cfg[key]) < 1:
            raise ConfigError(f"{key} must be >= 1, got {cfg[key]}", fix=f"e.g. --set {key}=10")
    if int(cfg["val_size"]) < 0 or int(cfg["subset"]) < 0:
        raise ConfigError(f"val_size and subset must be >= 0, got {cfg['val_size']} and {cfg['subset']}",
                          fix="--set val_size=3000 subset=0 (0 = all images)")
    if float(cfg["time_budget_s"]) < 0:
        raise ConfigError(f"time_budget_s must be >= 0 (0 = no budget), got {cfg['time_budget_s']}",
                          fix="e.g. --set time_budget_s=600")
    if cfg["select"] not in SELECT:
        raise ConfigError(f"select={cfg['select']!r} is not one of {', '.join(SELECT)}",
                          fix="--set select=val_accuracy")
    if cfg["select"] != "last" and int(cfg["val_size"]) == 0:
        raise ConfigError(f"select={cfg['select']} needs a validation split but val_size=0",
                          fix="--set val_size=3000, or --set select=last")
    check_augment(cfg["augment"])
    if "scheduler" in cfg:
        schedule_name(cfg["scheduler"])


def cifar_loaders(cfg: dict, device: torch.device, channels_last: bool = False) -> dict:
    """CIFAR-10 as `CifarBatches` on `device`: {"train", "val" (None when val_size=0), "test",
    "test_images" (uint8 [N,32,32,3] for figures), "classes"}.

    `subset > 0` keeps a seeded random subset of the training images (quick trials); the
    validation images are a seeded random `val_size` of the (subset of the) training images.
    """
    from dlcc.data import CIFAR10_CLASSES, load_cifar10
    from dlcc.data.cifar_gpu import CifarBatches
    from dlcc.train import split_indices

    data = load_cifar10()
    x, y = data["train"]
    tx, ty = data["test"]
    seed = int(cfg["seed"])
    if int(cfg["subset"]):
        keep = np.sort(np.random.default_rng(seed).permutation(len(y))[: int(cfg["subset"])])
        x, y = x[keep], y[keep]
    if int(cfg.get("test_subset", 0) or 0):
        keep = np.sort(np.random.default_rng(seed + 1).permutation(len(ty))[: int(cfg["test_subset"])])
        tx, ty = tx[keep], ty[keep]
    val = None
    if int(cfg["val_size"]):
        train_idx, val_idx = split_indices(len(y), int(cfg["val_size"]), seed=seed)
        val = CifarBatches(x[val_idx], y[val_idx], int(cfg["eval"]["batch_size"]), device=device,
                           channels_last=channels_last)
        x, y = x[train_idx], y[train_idx]
    train = CifarBatches(x, y, int(cfg["batch_size"]), shuffle=True, augment=cfg["augment"], seed=seed,
                         device=device, drop_last=len(y) > int(cfg["batch_size"]), channels_last=channels_last)
    test = CifarBatches(tx, ty, int(cfg["eval"]["batch_size"]), device=device, channels_last=channels_last)
    return {"train": train, "val": val, "test": test, "test_images": tx, "classes": CIFAR10_CLASSES}


@torch.no_grad()
def predict_logits(model: nn.Module, loader, tta: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits `[N, K]` float32 and targets `[N]` on the CPU; with `tta`, the mean of the logits
    for each image and its mirror image (horizontal flip)."""
    was_training = model.training
    model.eval()
    outs, targets = [], []
    try:
        for x, y in loader:
            out = model(x).float()
            if tta:
                out = 0.5 * (out + model(x.flip(-1)).float())
            outs.append(out.cpu())
            targets.append(y.cpu())
    finally:
        model.train(was_training)
    return torch.cat(outs), torch.cat(targets)


def test_report(model: nn.Module, loaders: dict, out_dir, tta: bool, top_k: int, title: str) -> dict:
    """Evaluate on the test split once; write confusion.png and top_losses.png; return metrics."""
    from dlcc.metrics import confusion_matrix, per_class_accuracy, per_sample_cross_entropy, top_losses

    logits, targets = predict_logits(model, loaders["test"], tta)
    classes = loaders["classes"]
    losses = per_sample_cross_entropy(logits, targets)
    cm = confusion_matrix(logits, targets, len(classes))
    per_class = per_class_accuracy(logits, targets, len(classes))
    plot_confusion(cm.numpy(), classes, out_dir / "confusion.png", title=f"{title}: test confusion matrix")
    if top_k > 0:
        values, idx = top_losses(losses, top_k)
        probs = torch.softmax(logits[idx], 1)
        plot_top_losses(np.asarray(loaders["test_images"])[idx.numpy()], targets[idx].tolist(),
                        logits[idx].argmax(1).tolist(), values.tolist(),
                        probs[torch.arange(len(idx)), targets[idx]].tolist(), classes, out_dir / "top_losses.png")
    report = {"test_accuracy": float((logits.argmax(1) == targets).double().mean()),
              "test_loss": float(losses.mean()),
              "test_per_class_accuracy": {c: round(float(a), 4) for c, a in zip(classes, per_class)}}
    if tta:   # what the mirror images add (one more pass over the test set)
        plain, _ = predict_logits(model, loaders["test"], False)
        report["test_accuracy_no_tta"] = float((plain.argmax(1) == targets).double().mean())
    return report


def build_schedule(cfg: dict, optimizer, steps_per_epoch: int):
    """(scheduler, interval) from `scheduler` and `scheduler_options` (unknown options ignored)."""
    name = schedule_name(cfg.get("scheduler"))
    options = {k: v for k, v in cfg.get("scheduler_options", {}).items() if k in OPTIONS[name]}
    if not options.get("warmup_steps"):
        options.pop("warmup_steps", None)
    return make_scheduler(name, optimizer, int(cfg["epochs"]), steps_per_epoch, **options)


def train_classifier(cfg: dict, ctx: RunContext, model: nn.Module, loaders: dict, title: str, *,
                     optimizer: torch.optim.Optimizer | None = None, loss_fn: nn.Module | None = None,
                     scheduler=None, scheduler_interval: str = "epoch", callbacks: list | None = None,
                     clock: TrainClock | None = None, tta: bool = False) -> dict:
    """Train `model` on loaders["train"] (validating on loaders["val"] when there is one), then
    report on loaders["test"]. Without `optimizer`, one is built from `cfg["optimizer"]` and the
    schedule from `cfg["scheduler"]`. `callbacks` run after the clock and before best-model
    selection. Returns the metrics for metrics.json."""
    device = choose_device(ctx.device)
    model = model.to(device)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    if optimizer is None:
        optimizer = make_optimizer(model.parameters(), cfg["optimizer"])
        scheduler, scheduler_interval = build_schedule(cfg, optimizer, len(loaders["train"]))
    budget = float(cfg["time_budget_s"]) or None
    clock = clock or TrainClock(budget, str(cfg.get("time_budget_clock", "wall")))
    all_callbacks = [clock, *(callbacks or [])]
    monitor = None
    ev = cfg["eval"]
    if ev.get("monitor_test") and ctx.evaluate_test:
        def test_accuracy() -> float:
            logits, targets = predict_logits(model, loaders["test"], tta)
            return float((logits.argmax(1) == targets).double().mean())
        monitor = EvalMonitor(test_accuracy, clock, int(ev.get("monitor_every_steps", 0)))
        all_callbacks.append(monitor)
    best = None
    if cfg["select"] != "last" and loaders["val"] is not None:
        mode = "max" if cfg["select"] == "val_accuracy" else "min"
        best = BestModel(cfg["select"], mode)
        all_callbacks.append(best)
        patience = int(cfg.get("early_stopping", {}).get("patience", 0))
        if patience > 0:
            all_callbacks.append(EarlyStopping(cfg["select"], patience=patience,
                                               min_delta=float(cfg["early_stopping"].get("min_delta", 0.0)),
                                               mode=mode))
    tracker, tracking = ctx.open_tracker(cfg, log_params=False)
    all_callbacks += tracking
    all_callbacks.extend(ctx.callbacks)
    n_params = sum(p.numel() for p in model.parameters())
    ctx.log(f"{title}: {n_params:,} parameters, {len(loaders['train'])} batches of {cfg['batch_size']} "
            f"per epoch on {device}" + (f", time budget {budget:g} s" if budget else ""))
    try:
        start = time.perf_counter()
        trainer = fit(model, loaders["train"], loaders["val"], loss_fn, optimizer, int(cfg["epochs"]),
                      scheduler=scheduler, scheduler_interval=scheduler_interval, callbacks=all_callbacks,
                      device=device, clip_grad_norm=float(cfg.get("clip_grad_norm", 0.0)) or None,
                      amp=str(cfg.get("amp", "auto")), out_dir=ctx.out_dir,
                      checkpoint_every=int(cfg.get("checkpoint_every", 1)), resume=ctx.resume,
                      progress=ctx.progress, config=cfg, log=ctx.log)
        fit_time = time.perf_counter() - start
        history = trainer.history
        curves = plot_history(history, ctx.out_dir / "curves.png", title=title)
        last = history[-1] if history else {}
        metrics = {"train_time_s": round(clock.done, 3), "fit_time_s": round(fit_time, 3),
                   "epochs_run": len(history), "steps": trainer.global_step,
                   "epoch_time_s": round(clock.done / max(1e-9, trainer.global_step / len(loaders["train"])), 3)
                   if trainer.global_step else None,
                   "train_loss": last.get("train_loss"), "train_accuracy": last.get("train_accuracy"),
                   "num_parameters": n_params}
        if best is not None:
            metrics.update(best_epoch=best.best_epoch, **{k: h for k, h in _best_val(history, cfg["select"]).items()})
        elif "val_accuracy" in last:
            metrics.update(val_accuracy=last["val_accuracy"], val_loss=last["val_loss"])
        if trainer.stop_reason:
            metrics["stop_reason"] = trainer.stop_reason
        if ctx.evaluate_test:
            metrics.update(test_report(model, loaders, ctx.out_dir, tta, int(cfg["figures"]["top_losses"]), title))
            if tta:
                metrics["test_tta"] = "flip"
        if monitor is not None:
            metrics["test_curve"] = monitor.points
            for threshold in (0.8, 0.85, 0.9, 0.94):
                metrics[f"time_to_{int(threshold * 100)}_s"] = monitor.time_to(threshold)
        if tracker is not None:
            tracker.log_figure("curves", curves, trainer.global_step)
            for name in ("confusion", "top_losses"):
                if (ctx.out_dir / f"{name}.png").exists():
                    tracker.log_figure(name, ctx.out_dir / f"{name}.png", trainer.global_step)
            tracker.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))},
                                trainer.global_step)
    finally:
        if tracker is not None:
            tracker.close()
    return metrics


def _best_val(history: list[dict], select: str) -> dict:
    rows = [h for h in history if select in h]
    if not rows:
        return {}
    pick = max(rows, key=lambda h: h[select]) if select == "val_accuracy" else min(rows, key=lambda h: h[select])
    return {k: pick[k] for k in ("val_accuracy", "val_loss") if k in pick}


def with_callbacks(ctx: RunContext, extra: list) -> RunContext:
    """A copy of `ctx` with `extra` callbacks appended (the caller's list is not changed)."""
    return replace(ctx, callbacks=[*ctx.callbacks, *extra])
