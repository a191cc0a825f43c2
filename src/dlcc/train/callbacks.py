"""Callbacks: small objects with named hooks that the training loop calls, in list order.

    class Callback:
        on_fit_start(trainer)                  before training (after a resume: before the next step)
        on_epoch_start(trainer, epoch)         a pass over the training data begins; epoch counts from 1
        on_batch_end(trainer, step, loss, lr)  after each optimizer step; step = trainer.global_step;
                                               loss: the step's mean loss, a float (on CUDA it may
                                               be a 0-dim tensor: float(loss) waits for the GPU)
        on_epoch_end(trainer, epoch)           a pass has ended
        on_eval(trainer, metrics)              after each evaluation (every pass, or every
                                               `eval_every` steps): metrics is the new history row
                                               {"epoch", "step", "train_loss", "val_loss", "lr", ...}
        on_fit_end(trainer, metrics)           metrics: the last row

A callback stops training by setting `trainer.should_stop = True` and `trainer.stop_reason`; the
loop checks it after every optimizer step. Exceptions (e.g. `optuna.TrialPruned`) propagate. A
callback with state that must survive a resume returns it from `state_dict()` (tensors,
numbers, strings, lists, dicts only: the checkpoint is loaded with weights_only=True).

Trainer attributes a callback may read: model, optimizer, scheduler, epoch, epochs, steps,
max_steps, global_step, history, train_time_s, out_dir, config, device, should_stop,
stop_reason; `trainer.paused()` keeps a callback's own work out of the training time.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from dlcc.errors import ConfigError


class Callback:
    """Base class: every hook does nothing. Override the ones you need."""

    def on_fit_start(self, trainer) -> None: ...

    def on_epoch_start(self, trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer, step: int, loss: float, lr: float) -> None: ...

    def on_epoch_end(self, trainer, epoch: int) -> None: ...

    def on_eval(self, trainer, metrics: dict[str, Any]) -> None: ...

    def on_fit_end(self, trainer, metrics: dict) -> None: ...

    def state_dict(self) -> dict | None:
        """State to put in checkpoints (None: nothing to save)."""
        return None

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict` returned."""


def _check_mode(mode: str) -> str:
    if mode not in ("min", "max"):
        raise ConfigError(f"mode must be 'min' or 'max', got {mode!r}",
                          fix="use mode='min' for losses and mode='max' for accuracies")
    return mode


def _monitored(metrics: dict, monitor: str, who: str) -> float:
    if monitor not in metrics:
        raise ConfigError(f"{who} monitors {monitor!r} but the epoch metrics are {sorted(metrics)}",
                          fix="monitor one of those keys (validation metrics need a val_loader)")
    return float(metrics[monitor])


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` evaluations.

    Args:
        monitor: a history key, e.g. "val_loss" or "val_accuracy".
        patience: evaluations without improvement before stopping (>= 1).
        min_delta: the smallest change that counts as an improvement (>= 0).
        mode: "min" (lower is better) or "max".
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "min"):
        if patience < 1 or min_delta < 0:
            raise ConfigError(f"early stopping needs patience >= 1 and min_delta >= 0, got "
                              f"patience={patience}, min_delta={min_delta}",
                              fix="e.g. patience=5, min_delta=0.0")
        self.monitor, self.patience, self.min_delta, self.mode = monitor, patience, min_delta, _check_mode(mode)
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_step = 0
        self.wait = 0

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_eval(self, trainer, metrics):
        value = _monitored(metrics, self.monitor, "EarlyStopping")
        if self._improved(value):
            self.best, self.best_epoch, self.best_step, self.wait = value, metrics["epoch"], metrics["step"], 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.should_stop = True
            trainer.stop_reason = (f"early stopping: {self.monitor} did not improve by more than "
                                   f"{self.min_delta} for {self.patience} evaluations (best {self.best:.6g} "
                                   f"at epoch {self.best_epoch}, step {self.best_step})")

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "best_step": self.best_step, "wait": self.wait}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_step = state.get("best_step", 0)


class BestModel(Callback):
    """Keep a copy of the weights from the evaluation with the best `monitor`; put them back at
    the end.

    After `fit`, `trainer.model` holds the best weights (not the last ones); `best`,
    `best_epoch`, `best_step` and `best_row` (that evaluation's history row) say which. With
    `trainer.out_dir` set, the best weights are also written to `out_dir/checkpoints/best.pt`
    (a plain state dict, loadable with weights_only=True).
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min", save: bool = True):
        self.monitor, self.mode, self.save = monitor, _check_mode(mode), save
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_step = 0
        self.best_row: dict[str, Any] = {}
        self.best_weights: dict[str, torch.Tensor] | None = None

    def on_eval(self, trainer, metrics):
        value = _monitored(metrics, self.monitor, "BestModel")
        better = value < self.best if self.mode == "min" else value > self.best
        if not better:  # NaN is never better, so a diverging evaluation is never kept
            return
        self.best, self.best_epoch, self.best_step = value, metrics["epoch"], metrics["step"]
        self.best_row = dict(metrics)
        from dlcc.train.distributed import is_main
        from dlcc.train.sharding import model_state

        # clone: the live parameters keep changing in place during training. Sharded (FSDP):
        # gathered on rank 0 (a collective: every rank gets here with the same metrics)
        self.best_weights = {k: v.detach().clone() for k, v in model_state(trainer.model).items()}
        if self.save and trainer.out_dir is not None and is_main():
            from dlcc.train.checkpoint import save_checkpoint

            save_checkpoint(trainer.out_dir / "checkpoints" / "best.pt",
                            {"model": self.best_weights, "epoch": self.best_epoch, "step": self.best_step,
                             self.monitor: value})

    def on_fit_end(self, trainer, metrics):
        if self.best_weights is not None:
            from dlcc.train.sharding import load_model_state

            load_model_state(trainer.model, self.best_weights)
            metrics["best_epoch"], metrics["best_step"] = self.best_epoch, self.best_step

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "best_step": self.best_step,
                "best_row": self.best_row, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.best_weights = state["best"], state["best_epoch"], state["best_weights"]
        self.best_step, self.best_row = state.get("best_step", 0), state.get("best_row", {})


class LambdaCallback(Callback):
    """A callback from plain functions, for quick experiments and tests:
    `LambdaCallback(on_eval=lambda trainer, metrics: print(metrics["epoch"]))`."""

    def __init__(self, **hooks: Any):
        unknown = set(hooks) - {n for n in dir(Callback) if n.startswith("on_")}
        if unknown:
            raise ConfigError(f"unknown callback hook(s) {sorted(unknown)}",
                              fix="use on_fit_start, on_epoch_start, on_batch_end, on_epoch_end, on_eval, on_fit_end")
        for name, fn in hooks.items():
            setattr(self, name, fn)
