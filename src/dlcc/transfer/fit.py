"""Train a target task in one of the three modes, choosing the learning rate on validation.

    result = fit_transfer(make_model, make_task, cfg.train, ctx, cfg.transfer, seed=cfg.seed,
                          validate=val_metrics, test=test_metrics)

`make_model()` builds the network (pretrained or not), `make_task(model, lr)` its
`dlcc.train.Task` (fresh loaders, parameter groups for `lr`). With `transfer.lr_grid` every
learning rate of the grid is trained the same way (same seed, same data order) under
`out_dir/lr_search/lr=<lr>/`, the test split untouched; the one with the best validation
accuracy is kept, its files are copied to `out_dir`, and only it is evaluated on the test
split. This is how the from-scratch baseline gets its own fairly tuned learning rate.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from dlcc.train import RunContext, Task, TrainConfig, train_and_report
from dlcc.transfer.backbone import build_backbone
from dlcc.transfer.checkpoint import load_backbone
from dlcc.transfer.config import TransferSettings
from dlcc.transfer.model import TransferNet
from dlcc.utils.io import write_json

Hook = Callable[[nn.Module, dict], dict]
_KEPT = ("model.pt", "history.json", "curves.png")


def transfer_model(settings: TransferSettings, architecture: str, config: dict[str, Any], num_classes: int,
                   init_scratch: Callable[[nn.Module], None] | None = None) -> tuple[TransferNet, dict | None]:
    """(TransferNet for `settings.mode`, the backbone file's info or None for scratch).

    The backbone is built from the run's own `architecture` / `config` and the file must fit it
    exactly (`load_backbone` names the layers that do not). `init_scratch(backbone)` prepares a
    random backbone (e.g. the data-dependent whitening init), for scratch only.
    """
    backbone = build_backbone(architecture, **config)
    info = None
    if settings.mode == "scratch":
        if init_scratch is not None:
            init_scratch(backbone)
    else:
        info = load_backbone(backbone, settings.backbone, architecture, config)
    return TransferNet(backbone, num_classes, frozen=settings.mode == "probe"), info


def fit_transfer(make_model: Callable[[], nn.Module], make_task: Callable[[nn.Module, float], Task],
                 train: TrainConfig, ctx: RunContext, settings: TransferSettings, *, seed: int,
                 validate: Hook, test: Hook | None = None) -> dict[str, Any]:
    """Train (one LR, or each of `settings.lr_grid` and keep the best on validation), test once.

    `validate(model, info)` must return "val_accuracy". Returns the metrics for metrics.json,
    with "lr" (the one kept) and, after a search, "lr_search" ([{lr, val_accuracy, val_loss}]).
    """
    if not settings.lr_grid:
        torch.manual_seed(seed)
        metrics = train_and_report(make_task(make_model(), train.lr), train, ctx, validate=validate, test=test)
        return {**metrics, "lr": train.lr}
    rows, best = [], None
    for lr in settings.lr_grid:
        trial_dir = ctx.out_dir / "lr_search" / f"lr={lr:g}"
        trial_ctx = dataclasses.replace(ctx, out_dir=trial_dir, evaluate_test=False, resume=False, tracker="none",
                                        callbacks=list(ctx.callbacks))
        trial_dir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(seed)   # every LR starts from the same weights
        model = make_model()
        ctx.log(f"lr search: training with train.lr={lr:g}")
        metrics = train_and_report(make_task(model, lr), dataclasses.replace(train, lr=lr), trial_ctx,
                                   validate=validate)
        write_json(trial_dir / "metrics.json", metrics)
        rows.append({"lr": lr, "val_accuracy": metrics["val_accuracy"], "val_loss": metrics.get("val_loss")})
        ctx.log(f"lr search: train.lr={lr:g} -> val_accuracy {metrics['val_accuracy']:.4f}")
        if best is None or metrics["val_accuracy"] > best[1]["val_accuracy"]:
            best = (model, metrics, lr, trial_dir)
    model, metrics, lr, trial_dir = best
    for name in _KEPT:
        if (trial_dir / name).is_file():
            shutil.copy2(trial_dir / name, ctx.out_dir / name)
    metrics = {**metrics, "lr": lr, "lr_search": rows}
    ctx.log(f"lr search: kept train.lr={lr:g} (validation accuracy {metrics['val_accuracy']:.4f})")
    if test is not None and ctx.evaluate_test:
        model.eval()
        metrics.update(test(model, dict(metrics)) or {})
    return metrics
