"""`TimeBudget`: stop training once it has used a number of seconds.

The seconds are the trainer's training time (`trainer.train_time_s`): passes over the data,
not evaluations, checkpoints or plots. When the budget runs out inside a pass the trainer
still evaluates once at the end, so the last weights get validation metrics like any others.
The trainer reads `time_budget_s` from its callbacks, so `trainer.fraction_done()` (which schedules
and lookahead follow) reaches 1 exactly when the time is up.
"""

from __future__ import annotations

from dlcc.errors import ConfigError
from dlcc.train.callbacks import Callback


class TimeBudget(Callback):
    """Stop after `seconds` of training (checked after every optimizer step)."""

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ConfigError(f"a time budget must be > 0 seconds, got {seconds}",
                              fix="e.g. --set train.time_budget_s=600")
        self.seconds = self.time_budget_s = float(seconds)
        self.stopped = False

    def on_batch_end(self, trainer, step, loss, lr):
        if not trainer.should_stop and trainer.train_time_s >= self.seconds:
            trainer.should_stop, self.stopped = True, True
            trainer.stop_reason = (f"time budget of {self.seconds:g} s of training ({trainer.clock} clock) "
                                   f"used up after {step} steps")
