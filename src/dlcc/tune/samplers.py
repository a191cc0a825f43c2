"""Search methods (Optuna samplers) and early-stopping rules (Optuna pruners).

Methods, as taught in Lecture 4:
- random: independent uniform (or log-uniform) draws; beats grid when few parameters matter;
- grid: every combination of a few values per parameter (`grid_points`, default 3 per range);
- tpe: Bayesian optimisation with a Tree-structured Parzen Estimator (10 random start-up trials);
- coarse-to-fine: a random coarse stage over the whole space, then a random fine stage inside
  the region spanned by the best coarse trials (see `CoarseToFineSampler`).

Pruners decide after each epoch whether a trial is worth continuing:
- sha: successive halving with reduction factor 3 from 1 epoch, i.e. the lecture's budget of
  27 epochs split 27x1, 9x3, 3x9, 1x27: keep the best third at epochs 1, 3, 9, ...;
- hyperband: several successive-halving brackets with different starting budgets;
- median: stop a trial whose value is worse than the median of earlier trials at that epoch.
"""

from __future__ import annotations

import math

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.trial import TrialState

from dlcc.errors import ConfigError
from dlcc.tune.params import grid_space
from dlcc.tune.space import SearchSpace

PRUNERS = ("none", "median", "hyperband", "sha")


def make_sampler(method: str, space: SearchSpace, n_trials: int, seed: int | None = None) -> BaseSampler:
    if method == "random":
        return RandomSampler(seed=seed)
    if method == "grid":
        return optuna.samplers.GridSampler(grid_space(space), seed=seed)
    if method == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(1, n_trials // 2)))
    if method == "coarse-to-fine":
        return CoarseToFineSampler(n_trials, seed=seed, **space.coarse_to_fine)
    raise ConfigError(f"unknown search method {method!r}", fix="use --method random, grid, tpe or coarse-to-fine")


def make_pruner(name: str, space: SearchSpace) -> optuna.pruners.BasePruner:
    """`name` is one of PRUNERS; a wandb-style `early_terminate` sets min_iter and eta."""
    terminate = space.early_terminate or {}
    min_resource, eta = terminate.get("min_iter", 1), terminate.get("eta", 3)
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if name == "sha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=min_resource, reduction_factor=eta)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=min_resource, reduction_factor=eta)
    raise ConfigError(f"unknown pruner {name!r}", fix=f"use --pruner {' | '.join(PRUNERS)}")


class CoarseToFineSampler(BaseSampler):
    """Two-stage random search (Lecture 4, "coarse to fine").

    Coarse stage: the first `ceil(coarse_fraction * n_trials)` trials sample the full space.
    Fine stage: take the best `top_fraction` of the completed trials (at least 2); for each
    numeric parameter, the range they span (on a log scale for log parameters) widened by half
    its width on each side plus 5% of the full range, clipped to the full range; for each
    categorical parameter, the choices they used. Sample uniformly inside that region.

    The stage is decided from the study itself, so several workers sharing one study agree.
    """

    def __init__(self, n_trials: int, coarse_fraction: float = 0.5, top_fraction: float = 0.2,
                 seed: int | None = None):
        self.n_coarse = max(1, math.ceil(n_trials * coarse_fraction))
        self.top_fraction = top_fraction
        self._random = RandomSampler(seed=seed)
        self._rng = np.random.RandomState(seed)
        self._regions: dict[int, dict] = {}

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def before_trial(self, study, trial) -> None:
        finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        complete = [t for t in finished if t.state == TrialState.COMPLETE and t.value is not None]
        if len(finished) >= self.n_coarse and complete:
            self._regions[trial.number] = self.narrow(complete, study.direction)

    def stage(self, trial_number: int) -> str:
        return "fine" if trial_number in self._regions else "coarse"

    def region(self, trial_number: int) -> dict:
        """name -> (low, high) or list of choices, for a fine-stage trial ({} when coarse)."""
        return dict(self._regions.get(trial_number, {}))

    def narrow(self, complete: list, direction) -> dict:
        k = min(len(complete), max(2, math.ceil(self.top_fraction * len(complete))))
        best = sorted(complete, key=lambda t: t.value, reverse=direction == optuna.study.StudyDirection.MAXIMIZE)[:k]
        region = {}
        for name, dist in best[0].distributions.items():
            values = [t.params[name] for t in best if name in t.params]
            if isinstance(dist, CategoricalDistribution):
                region[name] = sorted(set(values), key=dist.choices.index)
            else:
                region[name] = _numeric_region(values, dist)
        return region

    def sample_independent(self, study, trial, param_name, param_distribution):
        bounds = self._regions.get(trial.number, {}).get(param_name)
        if bounds is None:
            return self._random.sample_independent(study, trial, param_name, param_distribution)
        if isinstance(param_distribution, CategoricalDistribution):
            allowed = [c for c in bounds if c in param_distribution.choices] or list(param_distribution.choices)
            return allowed[self._rng.randint(len(allowed))]
        return _sample_numeric(self._rng, bounds, param_distribution)

    def after_trial(self, study, trial, state, values) -> None:
        self._regions.pop(trial.number, None)


def _numeric_region(values: list[float], dist) -> tuple[float, float]:
    to, back = (math.log, math.exp) if dist.log else (float, float)
    full_lo, full_hi = to(dist.low), to(dist.high)
    lo, hi = to(min(values)), to(max(values))
    margin = 0.5 * (hi - lo) + 0.05 * (full_hi - full_lo)
    lo, hi = max(full_lo, lo - margin), min(full_hi, hi + margin)
    return back(lo), back(hi)


def _sample_numeric(rng, bounds: tuple[float, float], dist) -> float | int:
    lo, hi = bounds
    if dist.log:
        value = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    else:
        value = rng.uniform(lo, hi)
    step = getattr(dist, "step", None)
    if step:
        value = dist.low + round((value - dist.low) / step) * step
    if isinstance(dist, IntDistribution):
        value = int(round(value))
    value = min(max(value, dist.low), dist.high)
    return value if isinstance(dist, IntDistribution) else float(value)
