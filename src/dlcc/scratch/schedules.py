"""Learning-rate schedules that set `optimizer.lr` (and, for one-cycle, the momentum), with the
values of torch.optim.lr_scheduler.

Like torch, a schedule applies the step-0 value when it is built and `step()` advances it by one
(call it after `optimizer.step()`). Each schedule is a closed-form `lr_at(step)`, so its curve can
be plotted without an optimizer: `StepLR(None, base_lr=0.1, step_size=10).lrs(50)`.

`interval` tells a training loop when to call `step()`: "epoch" (default) or "batch" (the
default of `OneCycleLR`, whose `total_steps` counts optimizer steps).
"""

from __future__ import annotations

import math

from dlcc.errors import ConfigError


def _anneal(start: float, end: float, pct: float, strategy: str) -> float:
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


class Schedule:
    """Base class. Subclasses implement `lr_at(step)` and optionally `momentum_at(step)`."""

    interval = "epoch"

    def __init__(self, optimizer=None, *, base_lr: float | None = None,
                 interval: str | None = None) -> None:
        name = type(self).__name__
        if optimizer is None and base_lr is None:
            raise ConfigError(f"{name}: give an optimizer or base_lr")
        if optimizer is not None and not hasattr(optimizer, "lr"):
            raise ConfigError(f"{name}: {type(optimizer).__name__} has no `lr` attribute",
                              fix="pass a dlcc.scratch.optim optimizer")
        if interval is not None:
            if interval not in ("epoch", "batch"):
                raise ConfigError(f"{name}: interval must be 'epoch' or 'batch', got {interval!r}")
            self.interval = interval
        self.optimizer = optimizer
        self.base_lr = float(base_lr if base_lr is not None else optimizer.lr)
        self.last_step = 0
        self._apply()

    def lr_at(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def momentum_at(self, step: int) -> float | None:
        return None

    def step(self) -> None:
        """Advance by one and set the optimizer's learning rate (and momentum)."""
        self.last_step += 1
        self._apply()

    def _apply(self) -> None:
        self.last_lr = self.lr_at(self.last_step)
        self.last_momentum = self.momentum_at(self.last_step)
        if self.optimizer is None:
            return
        self.optimizer.lr = self.last_lr
        if self.last_momentum is not None:
            if hasattr(self.optimizer, "betas"):   # Adam-like: cycle beta1
                self.optimizer.betas = (self.last_momentum, *self.optimizer.betas[1:])
            else:
                self.optimizer.momentum = self.last_momentum

    def get_last_lr(self) -> float:
        return self.last_lr

    def lrs(self, steps: int) -> list[float]:
        """The learning rates of steps 0 .. steps-1, without touching the optimizer."""
        return [self.lr_at(t) for t in range(steps)]

    def state_dict(self) -> dict:
        return {"last_step": self.last_step}

    def load_state_dict(self, state: dict) -> None:
        self.last_step = int(state["last_step"])
        self._apply()


def _positive_int(owner: str, name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return value


class StepLR(Schedule):
    """lr = base_lr * gamma ** (step // step_size)."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, **kwargs) -> None:
        self.step_size = _positive_int("StepLR", "step_size", step_size)
        self.gamma = float(gamma)
        super().__init__(optimizer, **kwargs)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** (step // self.step_size)


class ExponentialLR(Schedule):
    """lr = base_lr * gamma ** step."""

    def __init__(self, optimizer, gamma: float, **kwargs) -> None:
        self.gamma = float(gamma)
        super().__init__(optimizer, **kwargs)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** step


class CosineAnnealingLR(Schedule):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2 (periodic past T_max,
    like torch's)."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, **kwargs) -> None:  # noqa: N803
        self.T_max = _positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = float(eta_min)
        super().__init__(optimizer, **kwargs)

    def lr_at(self, step: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * step / self.T_max)) / 2


class LinearWarmup(Schedule):
    """Linear warm-up from `start_factor * base_lr` to `base_lr` over `warmup_steps`, then either
    constant (`then="constant"`) or cosine annealing to `eta_min` at `total_steps` (`then="cosine"`).

    Equals torch's `LinearLR(start_factor, total_iters=warmup_steps)`, or for the cosine variant
    `SequentialLR([LinearLR(...), CosineAnnealingLR(T_max=total_steps - warmup_steps, eta_min)],
    milestones=[warmup_steps])`.
    """

    def __init__(self, optimizer, warmup_steps: int, start_factor: float = 0.1,
                 then: str = "constant", total_steps: int | None = None, eta_min: float = 0.0,
                 **kwargs) -> None:
        self.warmup_steps = _positive_int("LinearWarmup", "warmup_steps", warmup_steps)
        if not 0.0 < start_factor <= 1.0:
            raise ConfigError(f"LinearWarmup: start_factor must be in (0, 1], got {start_factor!r}")
        if then not in ("constant", "cosine"):
            raise ConfigError(f"LinearWarmup: then must be 'constant' or 'cosine', got {then!r}")
        if then == "cosine" and (total_steps is None or total_steps <= warmup_steps):
            raise ConfigError(f"LinearWarmup: then='cosine' needs total_steps > warmup_steps "
                              f"({warmup_steps}), got {total_steps!r}")
        self.start_factor, self.then = float(start_factor), then
        self.total_steps, self.eta_min = total_steps, float(eta_min)
        super().__init__(optimizer, **kwargs)

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.base_lr * (self.start_factor + (1.0 - self.start_factor) * step / self.warmup_steps)
        if self.then == "constant":
            return self.base_lr
        t, span = step - self.warmup_steps, self.total_steps - self.warmup_steps
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * t / span)) / 2


class OneCycleLR(Schedule):
    """The one-cycle policy of torch.optim.lr_scheduler.OneCycleLR, stepped once per batch.

    The lr rises from max_lr / div_factor to max_lr over the first `pct_start` of the steps, then
    falls to initial_lr / final_div_factor (cosine or linear); momentum (SGD/RMSprop `momentum`,
    Adam's beta1) moves the opposite way between max_momentum and base_momentum.
    `three_phase=True` adds torch's symmetric descent back to initial_lr before the final anneal.
    """

    interval = "batch"

    def __init__(self, optimizer, max_lr: float, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float = 0.85, max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, **kwargs) -> None:
        if total_steps is not None:
            self.total_steps = _positive_int("OneCycleLR", "total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (_positive_int("OneCycleLR", "epochs", epochs)
                                * _positive_int("OneCycleLR", "steps_per_epoch", steps_per_epoch))
        else:
            raise ConfigError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
        if not 0.0 <= pct_start <= 1.0:
            raise ConfigError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ConfigError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        if cycle_momentum and optimizer is not None and not (
                hasattr(optimizer, "betas") or hasattr(optimizer, "momentum")):
            raise ConfigError(f"OneCycleLR: {type(optimizer).__name__} has no momentum or betas to cycle",
                              fix="pass cycle_momentum=False")
        self.max_lr = float(max_lr)
        self.initial_lr = self.max_lr / div_factor
        self.min_lr = self.initial_lr / final_div_factor
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle_momentum
        self.base_momentum, self.max_momentum = float(base_momentum), float(max_momentum)
        n = self.total_steps
        lo, hi, top, bottom = self.initial_lr, self.max_lr, self.max_momentum, self.base_momentum
        # (end_step, start_lr, end_lr, start_momentum, end_momentum), as torch builds its phases.
        if three_phase:
            self.phases = [(float(pct_start * n) - 1, lo, hi, top, bottom),
                           (float(2 * pct_start * n) - 2, hi, lo, bottom, top),
                           (n - 1, lo, self.min_lr, top, top)]
        else:
            self.phases = [(float(pct_start * n) - 1, lo, hi, top, bottom),
                           (n - 1, hi, self.min_lr, bottom, top)]
        kwargs.setdefault("base_lr", self.initial_lr)
        super().__init__(optimizer, **kwargs)

    def _phase(self, step: int):
        if step > self.total_steps:
            raise ConfigError(f"OneCycleLR: stepped {step} times but total_steps is {self.total_steps}",
                              fix="make total_steps (or epochs * steps_per_epoch) match the number "
                                  "of optimizer steps, and step the schedule once per batch")
        start = 0.0
        for i, (end, lr0, lr1, m0, m1) in enumerate(self.phases):
            if step <= end or i == len(self.phases) - 1:
                return (step - start) / (end - start), lr0, lr1, m0, m1
            start = end
        raise AssertionError("unreachable")  # pragma: no cover

    def lr_at(self, step: int) -> float:
        pct, lr0, lr1, _, _ = self._phase(step)
        return _anneal(lr0, lr1, pct, self.anneal_strategy)

    def momentum_at(self, step: int) -> float | None:
        if not self.cycle_momentum:
            return None
        pct, _, _, m0, m1 = self._phase(step)
        return _anneal(m0, m1, pct, self.anneal_strategy)


__all__ = ["Schedule", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearWarmup", "OneCycleLR"]
