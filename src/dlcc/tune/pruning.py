"""`PruningCallback`: reports each evaluation's validation metric to Optuna and stops bad trials.

The training loop calls `on_eval(trainer, metrics)` after each evaluation (every epoch, or every
`eval_every` steps). The callback reports `metrics[metric]` at step = number of evaluations so
far (1, 2, 3, ...: the "resource" that successive halving and Hyperband count), then asks the
study's pruner; when the trial should stop it raises `optuna.TrialPruned`, which the trainer
lets propagate and the sweep records as a PRUNED trial.
"""

from __future__ import annotations

import math

import optuna

from dlcc.errors import ConfigError
from dlcc.train.callbacks import Callback


class PruningCallback(Callback):
    """Report `metric` at every evaluation to `trial`; raise `optuna.TrialPruned` when told to stop."""

    def __init__(self, trial: optuna.Trial, metric: str):
        self.trial = trial
        self.metric = metric
        self.evals_done = 0
        self.pruned_at: int | None = None

    def on_eval(self, trainer, metrics: dict) -> None:
        self.evals_done += 1
        if self.metric not in metrics:
            raise ConfigError(f"the sweep selects on {self.metric!r}, but the training loop reports only "
                              f"{', '.join(sorted(metrics)) or 'nothing'} at each evaluation",
                              fix="set metric: in the search space to one of the val_* names listed")
        value = float(metrics[self.metric])
        if not math.isfinite(value):
            return  # a NaN epoch is the divergence check's business, not the pruner's
        self.trial.report(value, self.evals_done)
        if self.trial.should_prune():
            self.pruned_at = self.evals_done
            raise optuna.TrialPruned(f"pruned after evaluation {self.evals_done}: {self.metric}={value:.4g}")
