"""`TrackerCallback`: plugs a `Tracker` into the training loop (`dlcc.train.fit(callbacks=[...])`).

What it logs, all against the trainer's global step (one x-axis for everything):
- on fit start: the run's config, flattened, as hyper-parameters (when `log_params`);
- every `log_every` optimizer steps: `batch_loss` and `lr`;
- at every evaluation: the history row (`epoch`, `train_loss`, `val_loss`, `val_accuracy`, `lr`, ...);
- on fit end: final metrics not already logged with the last evaluation.
"""

from __future__ import annotations

from typing import Any

from dlcc.track.base import Tracker
from dlcc.train.callbacks import Callback


class TrackerCallback(Callback):
    """Log the run to `tracker`.

    Args:
        tracker: any `Tracker` (from `make_tracker`).
        log_every: log the batch loss every this many optimizer steps (1 = every step).
        log_params: log `trainer.config` as hyper-parameters when fitting starts (unless the
            tracker already has them, e.g. from `make_tracker(..., config=cfg)`).
        close_at_end: close the tracker when fitting ends (leave False when the caller
            still logs to it afterwards, e.g. test metrics or figures).
    """

    def __init__(self, tracker: Tracker, log_every: int = 10, log_params: bool = True,
                 close_at_end: bool = False):
        self.tracker = tracker
        self.log_every = max(1, int(log_every))
        self.log_params = log_params
        self.close_at_end = close_at_end

    def on_fit_start(self, trainer) -> None:
        config = getattr(trainer, "config", None)
        if self.log_params and config and not self.tracker.params_logged:
            self.tracker.log_params(dict(config))

    def on_batch_end(self, trainer, step: int, loss, lr: float) -> None:
        if step % self.log_every == 0:   # float(loss) waits for a GPU: only every log_every steps
            self.tracker.log_metrics({"batch_loss": float(loss), "lr": lr}, step)

    def on_eval(self, trainer, metrics: dict[str, Any]) -> None:
        self._last_epoch = {k: v for k, v in metrics.items() if k != "step"}
        self.tracker.log_metrics(self._last_epoch, _step(trainer))

    def on_fit_end(self, trainer, metrics: dict[str, Any]) -> None:
        # The loop passes the last evaluation's row (already logged); log only what is new.
        last = getattr(self, "_last_epoch", {})
        new = {k: v for k, v in (metrics or {}).items() if k not in last or last[k] != v}
        if new:
            self.tracker.log_metrics(new, _step(trainer))
        if self.close_at_end:
            self.tracker.close()


def _step(trainer) -> int:
    return int(getattr(trainer, "global_step", 0) or 0)
