"""Learning-rate schedules by name, built on `torch.optim.lr_scheduler`.

    scheduler, interval = make_scheduler("onecycle", optimizer, epochs=30, steps_per_epoch=len(loader))
    fit(..., scheduler=scheduler, scheduler_interval=interval)

| name            | torch class          | stepped     | options (defaults)                                   |
|-----------------|----------------------|-------------|------------------------------------------------------|
| `none`          | -                    | -           |                                                      |
| `step`          | StepLR               | per epoch   | step_size (10), gamma (0.5)  - the course's schedule |
| `cosine`        | CosineAnnealingLR    | per epoch   | min_lr (0)                                           |
| `warmup_cosine` | LambdaLR             | per step    | warmup_steps (5% of all steps, >= 1), min_lr (0)     |
| `onecycle`      | OneCycleLR           | per step    | max_lr (the optimizer's lr), pct_start (0.3),         |
|                 |                      |             | div_factor (50), final_div_factor (1e4),             |
|                 |                      |             | base_momentum (0.85), max_momentum (0.95)            |
| `plateau`       | ReduceLROnPlateau    | per epoch   | factor (0.5), patience (3)                           |

"step" here means an optimizer step: with gradient accumulation, pass
`steps_per_epoch = ceil(len(loader) / grad_accum_steps)`.
"""

from __future__ import annotations

import math

import torch
from torch.optim import lr_scheduler

from dlcc.errors import ConfigError

SCHEDULES = ("none", "step", "cosine", "warmup_cosine", "onecycle", "plateau")
ALIASES = {"one_cycle": "onecycle", "constant": "none", "cos": "cosine"}  # one_cycle: the course's name
OPTIONS = {
    "none": set(),
    "step": {"step_size", "gamma"},
    "cosine": {"min_lr"},
    "warmup_cosine": {"warmup_steps", "min_lr"},
    "onecycle": {"max_lr", "pct_start", "div_factor", "final_div_factor", "base_momentum",
                 "max_momentum", "anneal_strategy"},
    "plateau": {"factor", "patience", "min_lr"},
}


class WarmupCosine:
    """LR factor for LambdaLR: linear warm-up over `warmup_steps`, then cosine to `min_factor`.

    factor(s) = (s + 1) / warmup_steps                                   for s < warmup_steps
              = m + (1 - m) * (1 + cos(pi * (s - w) / (total - w))) / 2     afterwards (m = min_factor)
    where s counts optimizer steps from 0. A small class (not a lambda) so its settings show
    up in the scheduler's state_dict.
    """

    def __init__(self, warmup_steps: int, total_steps: int, min_factor: float = 0.0):
        self.warmup_steps, self.total_steps, self.min_factor = warmup_steps, total_steps, min_factor

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        progress = min(1.0, (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


def _has_momentum(optimizer: torch.optim.Optimizer) -> bool:
    group = optimizer.param_groups[0]
    return "betas" in group or group.get("momentum", 0) > 0


def schedule_name(name: str | None) -> str:
    """The canonical name ('One-Cycle' and 'one_cycle' -> 'onecycle'); a ConfigError if unknown."""
    key = str(name or "none").lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in SCHEDULES:
        raise ConfigError(f"unknown schedule {name!r}", fix=f"use one of {', '.join(SCHEDULES)}")
    return key


def make_scheduler(name: str, optimizer: torch.optim.Optimizer, epochs: int, steps_per_epoch: int,
                   **options) -> tuple[object | None, str]:
    """Build schedule `name` for `optimizer`; returns `(scheduler or None, interval)` where
    interval is "epoch" or "step" (how often `fit` must call `scheduler.step()`)."""
    name = schedule_name(name)
    unknown = set(options) - OPTIONS[name]
    if unknown:
        raise ConfigError(f"schedule {name!r} has no option(s) {sorted(unknown)}",
                          fix=f"its options are: {', '.join(sorted(OPTIONS[name])) or 'none'}")
    if epochs < 1 or steps_per_epoch < 1:
        raise ConfigError(f"a schedule needs epochs >= 1 and steps_per_epoch >= 1, got {epochs}, "
                          f"{steps_per_epoch}", fix="check the epoch count and that the loader is not empty")
    base_lr = optimizer.param_groups[0]["lr"]
    total = epochs * steps_per_epoch
    if name == "none":
        return None, "epoch"
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=int(options.get("step_size", 10)),
                                   gamma=float(options.get("gamma", 0.5))), "epoch"
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs,
                                              eta_min=float(options.get("min_lr", 0.0))), "epoch"
    if name == "warmup_cosine":
        warmup = int(options.get("warmup_steps") or max(1, round(0.05 * total)))
        if not 1 <= warmup < total:
            raise ConfigError(f"warmup_steps={warmup} must be in [1, {total - 1}] for {total} steps",
                              fix="use fewer warm-up steps or more epochs")
        factor = WarmupCosine(warmup, total, float(options.get("min_lr", 0.0)) / base_lr)
        return lr_scheduler.LambdaLR(optimizer, factor), "step"
    if name == "onecycle":
        cycle_momentum = _has_momentum(optimizer)  # OneCycleLR refuses SGD without momentum
        return lr_scheduler.OneCycleLR(
            optimizer, max_lr=float(options.get("max_lr", base_lr)), epochs=epochs,
            steps_per_epoch=steps_per_epoch, pct_start=float(options.get("pct_start", 0.3)),
            anneal_strategy=options.get("anneal_strategy", "cos"), cycle_momentum=cycle_momentum,
            base_momentum=float(options.get("base_momentum", 0.85)),
            max_momentum=float(options.get("max_momentum", 0.95)),
            div_factor=float(options.get("div_factor", 50.0)),
            final_div_factor=float(options.get("final_div_factor", 1e4))), "step"
    return lr_scheduler.ReduceLROnPlateau(optimizer, factor=float(options.get("factor", 0.5)),
                                          patience=int(options.get("patience", 3)),
                                          min_lr=float(options.get("min_lr", 0.0))), "epoch"
