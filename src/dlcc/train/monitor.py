"""`EvalMonitor`: measure something extra (e.g. test accuracy) during training, for reports.

Nothing is ever selected on these values: they draw time-to-accuracy curves. The measurement
runs outside the training clock (`trainer.paused()`), at every evaluation and, with
`every_steps`, every that many optimizer steps; each point is `(train_time_s, step, epoch,
value)`, and the value also goes into the evaluation's history row as `key`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dlcc.train.callbacks import Callback


class EvalMonitor(Callback):
    def __init__(self, evaluate_fn: Callable[[], float], every_steps: int = 0, key: str = "test_accuracy"):
        self.evaluate_fn, self.every_steps, self.key = evaluate_fn, int(every_steps), key
        self.points: list[dict] = []

    def _measure(self, trainer) -> float:
        time_s = trainer.train_time_s
        with trainer.paused():
            value = float(self.evaluate_fn())
        self.points.append({"train_time_s": round(time_s, 3), "step": trainer.global_step,
                            "epoch": trainer.epoch, self.key: value})
        return value

    def on_batch_end(self, trainer, step, loss, lr):
        if self.every_steps and step % self.every_steps == 0 and not trainer.should_stop:
            self._measure(trainer)

    def on_eval(self, trainer, metrics):
        if self.points and self.points[-1]["step"] == trainer.global_step:
            metrics[self.key] = self.points[-1][self.key]
            return
        metrics[self.key] = self._measure(trainer)

    def time_to(self, threshold: float) -> float | None:
        """Training seconds at the first point with value >= threshold (None if never)."""
        for p in self.points:
            if math.isfinite(p[self.key]) and p[self.key] >= threshold:
                return p["train_time_s"]
        return None
