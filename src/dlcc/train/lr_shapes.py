"""Learning-rate shapes that follow training's progress, also when a clock limits training.

Each shape gives the LR as a factor of `train.lr` from the step count and the *progress*
p in [0, 1] (`Trainer.fraction_done`): the larger of (steps done / steps planned) and (training time /
time budget).
So with `train.time_budget_s` the schedule ends exactly when the time is up, however fast
the machine is. `ScheduleLR` is the callback that sets every parameter group's LR to
`initial_lr × factor` before each optimizer step (groups keep their own ratios, e.g. a larger
LR for BatchNorm).

| name            | factor                                                             | like torch's              |
|-----------------|--------------------------------------------------------------------|---------------------------|
| `none`          | 1                                                                  |                           |
| `step`          | gamma ** (epochs done // step_size)                                | StepLR, per epoch         |
| `cosine`        | end + (1 - end)(1 + cos(pi p_e)) / 2, p_e = epochs done / epochs   | CosineAnnealingLR, per epoch |
| `warmup_cosine` | (s + 1) / warmup for s < warmup, then the cosine over the rest      | LambdaLR of WarmupCosine  |
| `triangle`      | linear from start up to 1 at pct_start, then linear down to end    | (airbench's schedule)     |

(`onecycle` keeps torch's OneCycleLR, which also cycles the momentum; see `build_schedule`.)
`cosine` counts whole epochs when training counts epochs, so the LR is constant within an
epoch; when training counts steps or time it moves every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dlcc.train.callbacks import Callback


def cosine(p: float, end: float) -> float:
    """From 1 at p=0 to `end` at p=1 along half a cosine."""
    return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * min(max(p, 0.0), 1.0)))


def triangle(p: float, start: float, peak_at: float, end: float) -> float:
    """Linear from `start` up to 1 at `peak_at` (a fraction of training), then down to `end`."""
    p = min(max(p, 0.0), 1.0)
    if p < peak_at:
        return start + (1.0 - start) * p / peak_at
    return 1.0 + (end - 1.0) * (p - peak_at) / max(1e-12, 1.0 - peak_at)


class ScheduleLR(Callback):
    """Set each group's LR to `initial_lr × factor` before every optimizer step.

    Args:
        shape: "none" | "step" | "cosine" | "warmup_cosine" | "triangle".
        warmup_steps, step_size, gamma, pct_start, start_factor, end_factor: the shape's options
            (see the table in the module docstring); warmup_steps=0 means 5% of the steps.
        time_fraction: a function `trainer -> used share of the time budget`, or None.
    """

    def __init__(self, shape: str, *, warmup_steps: int = 0, step_size: int = 10, gamma: float = 0.5,
                 pct_start: float = 0.3, start_factor: float = 0.02, end_factor: float = 0.0,
                 time_fraction: Callable | None = None):
        self.shape, self.warmup_steps, self.step_size, self.gamma = shape, warmup_steps, step_size, gamma
        self.pct_start, self.start_factor, self.end_factor = pct_start, start_factor, end_factor
        self.time_fraction = time_fraction

    def progress(self, trainer, per_epoch: bool = False) -> float:
        """Share of training done before the next step (by steps, epochs or the clock)."""
        total, step = trainer.max_steps, trainer.global_step
        per = trainer.steps_per_epoch()
        if per_epoch and trainer.epochs and per:
            p = (step // per) / trainer.epochs
        else:
            p = step / total if total else 0.0
        if self.time_fraction is not None:
            p = max(p, self.time_fraction(trainer))
        return min(p, 1.0)

    def factor(self, trainer) -> float:
        step = trainer.global_step
        if self.shape == "none":
            return 1.0
        if self.shape == "step":
            per = trainer.steps_per_epoch() or 1
            return self.gamma ** ((step // per) // self.step_size)
        if self.shape == "cosine":
            return cosine(trainer.fraction_done(per_epoch=True), self.end_factor)
        if self.shape == "warmup_cosine":
            warmup = self._warmup(trainer)
            if step < warmup:
                return (step + 1) / warmup
            total, budget = trainer.max_steps, trainer.time_budget_s
            p = (step - warmup) / max(1, total - warmup) if total else 0.0
            if budget:
                p = max(p, trainer.train_time_s / budget)
            return cosine(p, self.end_factor)
        return triangle(trainer.fraction_done(), self.start_factor, self.pct_start, self.end_factor)

    def _warmup(self, trainer) -> int:
        if self.warmup_steps:
            return self.warmup_steps
        total = trainer.max_steps
        return max(1, round(0.05 * total)) if total else 1

    def _apply(self, trainer) -> None:
        f = self.factor(trainer)
        for group in trainer.optimizer.param_groups:
            group["lr"] = group["initial_lr"] * f

    def on_fit_start(self, trainer):
        for group in trainer.optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self._apply(trainer)

    def on_batch_end(self, trainer, step, loss, lr):
        self._apply(trainer)
