"""Training callbacks the vision recipes share: a training-time clock with an optional budget,
a schedule that follows the budget, lookahead/EMA of the weights, and an evaluation monitor.

    clock = TrainClock(budget_s=600)                  # stop after 600 s of *training*
    fit(..., callbacks=[clock, BestModel(...)])

Training time is the time spent in training batches (data, forward, backward, step); the
per-epoch validation and anything a callback does at the end of an epoch (checkpoints, test
evaluations, plots) is not counted. When the budget runs out inside an epoch, the clock
validates the partial epoch itself, so the epoch still has `val_*` metrics for `BestModel`,
trackers and pruners (put the clock first in the callback list).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import contextmanager

import torch

from dlcc.errors import ConfigError
from dlcc.train import Callback


CLOCKS = ("wall", "cpu")


def _cpu_seconds() -> float:
    """This process's CPU time divided by torch's thread count: on an otherwise idle machine
    about the wall time; on a shared one, an estimate of what the wall time would be."""
    return time.process_time() / max(1, torch.get_num_threads())


class TrainClock(Callback):
    """Measure training time; with `budget_s`, stop training once it is used up.

    Args:
        budget_s: seconds of training allowed (None: no limit).
        clock: "wall" (real time, the default) or "cpu" (process CPU time / torch threads,
            for benchmarks on shared machines; see `_cpu_seconds`).

    Attributes: `elapsed` (seconds of training so far, also while an epoch runs),
    `budget_s`, `stopped_by_budget`.
    """

    def __init__(self, budget_s: float | None = None, clock: str = "wall"):
        if budget_s is not None and not budget_s > 0:
            raise ConfigError(f"time_budget_s must be > 0 (or 0 for no budget), got {budget_s}",
                              fix="e.g. --set time_budget_s=600")
        if clock not in CLOCKS:
            raise ConfigError(f"time_budget_clock={clock!r} is not one of {', '.join(CLOCKS)}",
                              fix="--set time_budget_clock=wall")
        self.budget_s, self.clock = budget_s, clock
        self._now = time.perf_counter if clock == "wall" else _cpu_seconds
        self.done = 0.0              # seconds of finished epochs
        self._epoch_start: float | None = None
        self._last_batch = 0.0       # training seconds of this epoch up to its last batch
        self._paused = 0.0           # seconds paused inside this epoch (e.g. mid-epoch test evals)
        self.stopped_by_budget = False

    @property
    def elapsed(self) -> float:
        if self._epoch_start is None:
            return self.done
        return self.done + self._now() - self._epoch_start - self._paused

    @contextmanager
    def paused(self):
        """Do not count the time spent inside this block (e.g. a test evaluation)."""
        start = self._now()
        try:
            yield
        finally:
            self._paused += self._now() - start

    def on_epoch_start(self, trainer, epoch):
        self._epoch_start, self._paused, self._last_batch = self._now(), 0.0, 0.0

    def on_batch_end(self, trainer, step, loss, lr):
        elapsed = self.elapsed
        self._last_batch = elapsed - self.done
        if self.budget_s is not None and elapsed >= self.budget_s and not trainer.should_stop:
            trainer.should_stop = True
            trainer.stop_reason = f"time budget of {self.budget_s:g} s of training ({self.clock} clock) used up"
            self.stopped_by_budget = True

    def on_epoch_end(self, trainer, epoch, metrics):
        self.done += self._last_batch
        self._epoch_start = None
        metrics["train_time_s"] = self.done
        # the loop skips validation when a callback stops it inside an epoch; validate here
        if self.stopped_by_budget and trainer.val_loader is not None and not any(k.startswith("val_") for k in metrics):
            val = trainer.evaluate(trainer.val_loader)
            metrics.update({f"val_{name}": value for name, value in val.items()})

    def state_dict(self):
        return {"done": self.done}

    def load_state_dict(self, state):
        self.done = float(state["done"])


def triangle(progress: float, start: float, peak_at: float, end: float) -> float:
    """LR factor: linear from `start` up to 1 at `peak_at` (fraction of training), then down to `end`."""
    p = min(max(progress, 0.0), 1.0)
    if p < peak_at:
        return start + (1.0 - start) * p / peak_at
    return 1.0 + (end - 1.0) * (p - peak_at) / max(1e-12, 1.0 - peak_at)


class ProgressSchedule(Callback):
    """Set every param group's LR to `base_lr × factor(progress)` after each optimizer step.

    `progress` in [0, 1] is the larger of `step / total_steps` and, with a clock that has a
    budget, `clock.elapsed / budget`: with a time budget the schedule finishes its decay exactly
    when the time is up, however fast the machine is. `base_lr` is each group's `initial_lr`
    (set here from its LR at fit start).
    """

    def __init__(self, factor: Callable[[float], float], total_steps: int, clock: TrainClock | None = None):
        self.factor, self.total_steps, self.clock = factor, max(1, int(total_steps)), clock

    def progress(self, step: int) -> float:
        p = step / self.total_steps
        if self.clock is not None and self.clock.budget_s:
            p = max(p, self.clock.elapsed / self.clock.budget_s)
        return min(p, 1.0)

    def _apply(self, optimizer, step: int) -> None:
        f = self.factor(self.progress(step))
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"] * f

    def on_fit_start(self, trainer):
        for group in trainer.optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self._apply(trainer.optimizer, trainer.global_step)

    def on_batch_end(self, trainer, step, loss, lr):
        self._apply(trainer.optimizer, step)


class Lookahead(Callback):
    """Lookahead with an EMA of the weights (as in airbench): every `every` steps
    `ema ← decay·ema + (1 − decay)·w` and then `w ← ema`. The decay follows
    `decay(progress) = base ** every · progress ** 3` - near 0 early (weights move freely),
    rising late to average away the last steps' noise. At the end the model gets the EMA.

    Floating-point buffers (BatchNorm running statistics) are averaged too.
    """

    def __init__(self, schedule: ProgressSchedule | None = None, every: int = 5, base: float = 0.95,
                 total_steps: int | None = None):
        self.schedule, self.every, self.base, self.total_steps = schedule, int(every), base, total_steps
        self.ema: dict[str, torch.Tensor] | None = None

    def _progress(self, step: int) -> float:
        if self.schedule is not None:
            return self.schedule.progress(step)
        return min(1.0, step / max(1, self.total_steps or 1))

    def on_fit_start(self, trainer):
        if self.ema is None:
            self.ema = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()
                        if v.dtype.is_floating_point}

    @torch.no_grad()
    def _update(self, model, decay: float) -> None:
        for k, v in model.state_dict().items():
            if k in self.ema:
                self.ema[k].lerp_(v, 1.0 - decay)
                v.copy_(self.ema[k])

    def on_batch_end(self, trainer, step, loss, lr):
        if step % self.every == 0:
            self._update(trainer.model, self.base ** self.every * self._progress(step) ** 3)

    def on_fit_end(self, trainer, metrics):
        self._update(trainer.model, 1.0)   # w <- ema

    def state_dict(self):
        return {"ema": self.ema}

    def load_state_dict(self, state):
        self.ema = state["ema"]


class EvalMonitor(Callback):
    """Evaluate `evaluate_fn()` (e.g. test accuracy) at the end of every epoch and/or every
    `every_steps` optimizer steps, outside the training clock; keep `(train_time_s, step,
    epoch, value)` points. For reporting only (time-to-accuracy curves): nothing is selected
    on these numbers. The epoch value is also added to the epoch metrics as `key`.
    """

    def __init__(self, evaluate_fn: Callable[[], float], clock: TrainClock, every_steps: int = 0,
                 key: str = "test_accuracy"):
        self.evaluate_fn, self.clock, self.every_steps, self.key = evaluate_fn, clock, int(every_steps), key
        self.points: list[dict] = []

    def _measure(self, trainer) -> float:
        with self.clock.paused():
            value = float(self.evaluate_fn())
        self.points.append({"train_time_s": round(self.clock.elapsed, 3), "step": trainer.global_step,
                            "epoch": trainer.epoch, self.key: value})
        return value

    def on_batch_end(self, trainer, step, loss, lr):
        if self.every_steps and step % self.every_steps == 0 and not trainer.should_stop:
            self._measure(trainer)

    def on_epoch_end(self, trainer, epoch, metrics):
        if self.points and self.points[-1]["step"] == trainer.global_step:
            metrics[self.key] = self.points[-1][self.key]
            return
        metrics[self.key] = self._measure(trainer)
        self.points[-1]["train_time_s"] = round(self.clock.done, 3)

    def time_to(self, threshold: float) -> float | None:
        """Training seconds at the first point with value >= threshold (None if never)."""
        for p in self.points:
            if p[self.key] >= threshold and math.isfinite(p[self.key]):
                return p["train_time_s"]
        return None
