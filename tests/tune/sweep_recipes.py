"""Test-only recipes for sweeps, registered by monkeypatching the recipe registry.

- `quadratic`: no training at all; each "epoch" reports val_loss = (x-1)^2 + (y+2)^2 + penalty(opt)
  + 1/epoch to the callbacks, so a sweep of it takes milliseconds per trial. `sleep` (seconds per
  epoch) makes trials long enough to kill a worker in the middle of one. When it evaluates the
  test split it appends a line to the file named by $DLCC_TEST_EVAL_LOG.
- `tiny-linear`: a real `dlcc.train.fit` run (logistic regression on 256 fixed points), so the
  pruning callback is exercised inside the real training loop.

Run as a script, it registers both and runs the `dlcc` CLI: `python sweep_recipes.py sweep ...`
(used for the worker processes of the PostgreSQL tests).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass
from types import SimpleNamespace
from typing import Literal

from dlcc.config import setting
from dlcc.recipes.registry import Recipe


@dataclass
class QuadraticConfig:
    x: float = setting(0.0, "x")
    y: float = setting(0.0, "y")
    opt: Literal["a", "b", "c"] = setting("a", "a choice with a penalty")
    hidden: list[int] = setting([4], "a list")
    epochs: int = setting(4, "evaluations", ge=1)
    sleep: float = setting(0.0, "seconds per evaluation", ge=0)
    seed: int = setting(0, "seed", ge=0)


def _run_quadratic(cfg: QuadraticConfig, ctx) -> dict:
    penalty = {"a": 0.5, "b": 0.0, "c": 1.0}[cfg.opt]
    base = (cfg.x - 1.0) ** 2 + (cfg.y + 2.0) ** 2 + penalty + 0.01 * len(cfg.hidden)
    trainer = SimpleNamespace(config=asdict(cfg), global_step=0, should_stop=False, history=[])
    callbacks = list(getattr(ctx, "callbacks", None) or [])
    for cb in callbacks:
        cb.on_fit_start(trainer)
    val = base
    for epoch in range(1, cfg.epochs + 1):
        time.sleep(cfg.sleep)
        trainer.global_step += 1
        val = base + 1.0 / epoch
        metrics = {"epoch": epoch, "step": trainer.global_step, "train_loss": val, "val_loss": val}
        trainer.history.append(metrics)
        for cb in callbacks:
            cb.on_eval(trainer, metrics)
    out = {"val_loss": val, "train_loss": val}
    if getattr(ctx, "evaluate_test", True):
        out["test_loss"] = base + 0.1
        log = os.environ.get("DLCC_TEST_EVAL_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"{ctx.out_dir}\n")
    return out


QUADRATIC = Recipe(name="quadratic", summary="test recipe: a quadratic bowl, no training", data="none",
                   config=QuadraticConfig, run=_run_quadratic)


@dataclass
class TinyLinearConfig:
    lr: float = setting(0.1, "learning rate", gt=0)
    epochs: int = setting(9, "epochs", ge=1)
    seed: int = setting(0, "seed", ge=0)


def _run_tiny_linear(cfg: TinyLinearConfig, ctx) -> dict:
    import torch
    from torch import nn

    from dlcc.train import TensorBatches, fit, make_loader

    g = torch.Generator().manual_seed(0)
    x = torch.randn(320, 8, generator=g)
    y = (x @ torch.linspace(-1, 1, 8) > 0).long()
    train, val = (x[:256], y[:256]), (x[256:], y[256:])
    torch.manual_seed(cfg.seed)
    model = nn.Linear(8, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    trainer = fit(model, make_loader(TensorBatches(*train), 64, shuffle=True, seed=cfg.seed),
                  make_loader(TensorBatches(*val), 64), nn.CrossEntropyLoss(), optimizer, cfg.epochs,
                  callbacks=list(getattr(ctx, "callbacks", None) or []), device="cpu", progress=False,
                  config=asdict(cfg))
    last = trainer.history[-1]
    return {"val_loss": last["val_loss"], "val_accuracy": last["val_accuracy"]}


TINY_LINEAR = Recipe(name="tiny-linear", summary="test recipe: logistic regression on 256 points",
                     data="none", config=TinyLinearConfig, run=_run_tiny_linear)

RECIPES = (QUADRATIC, TINY_LINEAR)


def register(monkeypatch=None) -> None:
    """Add the test recipes to the registry (undone at test end when `monkeypatch` is given)."""
    from dlcc.recipes import registry

    for recipe in RECIPES:
        if monkeypatch is not None:
            monkeypatch.setitem(registry._CACHE, recipe.name, recipe)
        else:
            registry._CACHE[recipe.name] = recipe


if __name__ == "__main__":
    from dlcc.cli import main

    register()
    sys.exit(main(sys.argv[1:]))
