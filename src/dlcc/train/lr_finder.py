"""The learning-rate range test (Smith 2017; popularised by fastai's `lr_find`).

Train for up to `num_iter` steps while the LR grows exponentially from `start_lr` to `end_lr`,
record the (smoothed) loss at every step, stop when the loss explodes, then put the model,
optimizer and RNGs back exactly as they were. Two suggestions come out:

- "steepest": the LR where the smoothed loss falls fastest (most negative d loss / d log lr),
  looked for before the loss minimum;
- "min/10": a tenth of the LR at the loss minimum.

It runs through the ordinary `Trainer` with one callback, `LRRangeTest`, so it sees exactly
the training step that `fit` uses.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dlcc.errors import ConfigError, TrainingDiverged
from dlcc.train.callbacks import Callback
from dlcc.train.checkpoint import capture_rng_state, restore_rng_state
from dlcc.train.loop import Trainer


class LRRangeTest(Callback):
    """Callback: exponential LR sweep with an exponentially smoothed, bias-corrected loss."""

    def __init__(self, start_lr: float, end_lr: float, num_iter: int, smooth: float = 0.98,
                 diverge: float = 4.0):
        self.start_lr, self.end_lr, self.num_iter = start_lr, end_lr, num_iter
        self.smooth, self.diverge = smooth, diverge
        self.lrs: list[float] = []
        self.losses: list[float] = []      # smoothed
        self.raw_losses: list[float] = []
        self._avg = 0.0
        self._best = math.inf

    def on_fit_start(self, trainer):
        for group in trainer.optimizer.param_groups:
            group["lr"] = self.start_lr
            group.pop("initial_lr", None)  # let ExponentialLR start from start_lr
        gamma = (self.end_lr / self.start_lr) ** (1.0 / max(1, self.num_iter - 1))
        self._schedule = torch.optim.lr_scheduler.ExponentialLR(trainer.optimizer, gamma)

    def on_batch_end(self, trainer, step, loss, lr):
        loss = float(loss)
        self._avg = self.smooth * self._avg + (1 - self.smooth) * loss
        smoothed = self._avg / (1 - self.smooth ** step)  # bias correction of the running mean
        self.lrs.append(lr)
        self.raw_losses.append(loss)
        self.losses.append(smoothed)
        self._best = min(self._best, smoothed)
        if step >= self.num_iter or smoothed > self.diverge * self._best:
            trainer.should_stop = True
            trainer.stop_reason = "LR range test finished"
            return
        self._schedule.step()


@dataclass
class LRFinderResult:
    lrs: list[float]
    losses: list[float]                  # smoothed losses, one per LR
    raw_losses: list[float]
    steepest_lr: float
    min_loss_lr: float
    suggestion: float                    # the LR suggested by `method`
    method: str                          # "steepest" or "min/10"
    plot_path: Path | None = None
    notes: list[str] = field(default_factory=list)


def suggest(lrs: list[float], losses: list[float], skip_start: int = 5) -> tuple[float, float]:
    """(steepest-descent LR, LR at the minimum smoothed loss) from a sweep."""
    lrs_a, losses_a = np.asarray(lrs, float), np.asarray(losses, float)
    i_min = int(np.nanargmin(losses_a))
    start = min(skip_start, max(0, i_min - 1))  # the first smoothed points are noisy
    window = slice(start, i_min + 1)
    if i_min - start >= 2:
        slopes = np.gradient(losses_a[window], np.log10(lrs_a[window]))
        i_steep = start + int(np.nanargmin(slopes))
    else:
        i_steep = i_min
    return float(lrs_a[i_steep]), float(lrs_a[i_min])


def lr_find(model: nn.Module, train_loader: Iterable, loss_fn: Callable,
            optimizer: torch.optim.Optimizer, *, start_lr: float = 1e-7, end_lr: float = 10.0,
            num_iter: int = 100, smooth: float = 0.98, diverge: float = 4.0,
            method: str = "steepest", device: str | torch.device = "auto",
            plot_path: str | Path | None = None) -> LRFinderResult:
    """Run the LR range test; `model` and `optimizer` are restored afterwards.

    Args:
        num_iter: the number of optimizer steps (the loader is cycled if it is shorter).
        smooth: EMA factor of the loss (0 = raw loss).
        diverge: stop when the smoothed loss exceeds `diverge` times its minimum.
        method: which suggestion to return as `suggestion`: "steepest" or "min/10".
        plot_path: write a PNG of loss vs LR there.
    """
    if not 0 < start_lr < end_lr:
        raise ConfigError(f"need 0 < start_lr < end_lr, got {start_lr}, {end_lr}", fix="e.g. 1e-7 and 10")
    if num_iter < 10:
        raise ConfigError(f"num_iter={num_iter} is too few points for a suggestion", fix="use num_iter >= 10")
    if method not in ("steepest", "min/10"):
        raise ConfigError(f"method={method!r}", fix="use 'steepest' or 'min/10'")
    saved_model = copy.deepcopy(model.state_dict())
    saved_optim = copy.deepcopy(optimizer.state_dict())
    saved_rng = capture_rng_state()
    sweep = LRRangeTest(start_lr, end_lr, num_iter, smooth, diverge)
    trainer = Trainer(model, optimizer, loss_fn, callbacks=[sweep], device=device, metrics={},
                      progress=False)
    notes = []
    try:
        trainer.fit(train_loader, None, epochs=math.ceil(num_iter / max(1, len(train_loader))))
    except TrainingDiverged:
        notes.append("the loss became NaN/inf; the sweep stopped there")
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optim)
        restore_rng_state(saved_rng)
    if len(sweep.lrs) < 3:
        raise ConfigError(f"the LR range test ran only {len(sweep.lrs)} steps before the loss diverged",
                          fix=f"lower start_lr (now {start_lr}) or check the data")
    steepest, at_min = suggest(sweep.lrs, sweep.losses)
    chosen = steepest if method == "steepest" else at_min / 10
    result = LRFinderResult(sweep.lrs, sweep.losses, sweep.raw_losses, steepest, at_min, chosen,
                            method, notes=notes)
    if plot_path is not None:
        result.plot_path = plot_lr_find(result, plot_path)
    return result


def plot_lr_find(result: LRFinderResult, path: str | Path) -> Path:
    """Save loss-vs-LR (log x) with both suggestions marked; returns the path."""
    from matplotlib.figure import Figure  # no pyplot: works without a display, no global state

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot(result.lrs, result.raw_losses, color="0.8", lw=1, label="loss")
    ax.plot(result.lrs, result.losses, color="C0", lw=2, label="smoothed loss")
    ax.axvline(result.steepest_lr, color="C1", ls="--", label=f"steepest {result.steepest_lr:.2g}")
    ax.axvline(result.min_loss_lr / 10, color="C2", ls=":", label=f"min/10 {result.min_loss_lr / 10:.2g}")
    ax.set_xscale("log")
    low, high = min(result.losses), result.losses[0]
    ax.set_ylim(low - 0.1 * abs(high - low), max(high, low) + 0.5 * abs(high - low) + 1e-8)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title("LR range test")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
