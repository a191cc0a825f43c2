"""Run a hyper-parameter sweep: one worker's loop over trials of a shared Optuna study.

The sweep never imports recipes (tune sits below recipes): the caller hands in
`run_trial(overrides, out_dir, callbacks, evaluate_test) -> metrics`, which runs one
configuration (the recipe's config plus `--set`-style `overrides`) in `out_dir`, passing
`callbacks` to the training loop. `evaluate_test=False` for trials: their test metrics, if the
recipe computes any, are dropped. Only the final re-run of the best configuration reads them.

Sweep directory (`out_dir`):

    sweep.yaml                 what this sweep is (recipe, space, metric, method, pruner, storage)
    study.db                   the study, when no --storage was given (SQLite)
    trials/trial-0007/         one run directory per trial run by this worker
    trials.csv                 every trial of the study: number, state, value, params, ...
    best-trial-0007/           the best configuration, re-run once with test evaluation
    best.json                  the selection (validation) and the test result, reported apart

`n_trials` is the number of finished (complete or pruned) trials the *study* should reach: each
worker stops when the study has them, so N workers started with `--trials 20` run 20 in all,
and a worker started after a crash finishes the rest.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from dlcc.errors import ConfigError, TrainingDiverged
from dlcc.tune.params import decode_params, grid_size, suggest, to_overrides
from dlcc.tune.pruning import PruningCallback
from dlcc.tune.samplers import CoarseToFineSampler, make_pruner, make_sampler
from dlcc.tune.space import SearchSpace
from dlcc.tune.storage import open_storage, redact
from dlcc.utils.io import atomic_write_text, read_yaml, write_json, write_yaml

TrialRunner = Callable[[list[str], Path, list, bool], dict]
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass
class SweepSettings:
    recipe: str
    space: SearchSpace
    n_trials: int
    out_dir: Path
    storage: str | None = None          # None: sqlite:///OUT_DIR/study.db
    study_name: str | None = None       # None: the recipe name
    method: str = "random"
    pruner: str = "none"
    base_overrides: list[str] = field(default_factory=list)
    seed: int | None = None             # sampler seed (leave None with several workers)
    heartbeat: int = 10                 # seconds; a dead worker's trial fails after 2x this
    final: bool = True                  # re-run the best configuration and evaluate on test
    log: Callable[[str], None] = print

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(self.out_dir / 'study.db').resolve()}"

    @property
    def name(self) -> str:
        return self.study_name or self.recipe


def open_study(s: SweepSettings) -> optuna.Study:
    """Create or load the study; refuse to mix a different search into an existing one."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # dlcc prints one line per trial
    storage = open_storage(s.storage_url, heartbeat=s.heartbeat)
    sampler = make_sampler(s.method, s.space, s.n_trials, s.seed)
    study = optuna.create_study(storage=storage, sampler=sampler, pruner=make_pruner(s.pruner, s.space),
                                study_name=s.name, direction=s.space.direction, load_if_exists=True)
    identity = {"dlcc:recipe": s.recipe, "dlcc:space": s.space.fingerprint(),
                "dlcc:metric": s.space.metric, "dlcc:base_overrides": sorted(s.base_overrides)}
    existing = study.user_attrs
    for key, value in identity.items():
        if key in existing and existing[key] != value:
            raise ConfigError(
                f"study {s.name!r} in {redact(s.storage_url)} was created for a different sweep "
                f"({key[5:]}: {existing[key]!r}, now {value!r}); dlcc will not mix two searches in one study",
                fix="give this sweep its own --study NAME (or its own --out directory)")
        study.set_user_attr(key, value)
    if study.direction.name.lower() != s.space.direction:
        raise ConfigError(f"study {s.name!r} already exists and is to {study.direction.name.lower()} "
                          f"{s.space.metric}, but the space says {s.space.direction}",
                          fix="give this sweep its own --study NAME")
    return study


def run_sweep(s: SweepSettings, run_trial: TrialRunner) -> dict[str, Any]:
    """Run trials until the study has `s.n_trials` finished ones; then the final evaluation.

    Returns the best.json content ({} when `final` is off).
    """
    meta = _check_dir(s)
    study = open_study(s)
    write_yaml(s.out_dir / "sweep.yaml", meta)
    target = s.n_trials
    if s.method == "grid":
        size = grid_size(s.space)
        if size < target:
            s.log(f"the grid has {size} combinations; running {size} trials, not {target}")
            target = size
    s.log(f"sweep {s.name!r}: {s.recipe}, {s.method} search, pruner {s.pruner}, selecting on "
          f"{s.space.metric} ({s.space.direction}), {target} trials, storage {redact(s.storage_url)}")
    objective = _Objective(s, study, run_trial)
    failures, waiting = 0, False
    while True:
        _fail_stale_trials(study)
        trials = study.get_trials(deepcopy=False)
        finished = sum(t.state in FINISHED for t in trials)
        running = sum(t.state == TrialState.RUNNING for t in trials)
        if finished >= target:
            break
        if finished + running >= target:  # the rest are running in other workers; wait for them
            if not waiting:
                s.log(f"waiting for {running} running trial(s) of other workers")
                waiting = True
            time.sleep(min(2.0, s.heartbeat))
            continue
        waiting = False
        study.optimize(objective, n_trials=1, catch=(TrainingDiverged,), gc_after_trial=True)
        write_trials_csv(study, s)  # after every trial, so the table can be watched during a sweep
        if objective.last_failed:
            failures += 1
            if failures > max(3, target):
                raise TrainingDiverged(f"{failures} trials failed in this worker (last: {objective.last_error})",
                                       fix="narrow the search space (e.g. a lower learning-rate range)")
    write_trials_csv(study, s)  # the final states, other workers' trials included
    if not s.final:
        return {}
    return final_evaluation(study, s, run_trial)


class _Objective:
    def __init__(self, s: SweepSettings, study: optuna.Study, run_trial: TrialRunner):
        self.s, self.study, self.run_trial = s, study, run_trial
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.last_failed, self.last_error = False, ""

    def __call__(self, trial: optuna.Trial) -> float:
        s = self.s
        self.last_failed = True
        values = suggest(trial, s.space)
        overrides = s.base_overrides + to_overrides(s.space.fixed) + to_overrides(values)
        trial_dir = s.out_dir / "trials" / f"trial-{trial.number:04d}"
        trial.set_user_attr("overrides", overrides)
        trial.set_user_attr("dir", str(trial_dir))
        trial.set_user_attr("worker", self.worker)
        sampler = self.study.sampler
        if isinstance(sampler, CoarseToFineSampler):
            trial.set_user_attr("stage", sampler.stage(trial.number))
            if sampler.region(trial.number):
                trial.set_user_attr("region", json.dumps(sampler.region(trial.number), default=str))
        shown = ", ".join(f"{k}={_short(v)}" for k, v in values.items())
        pruning = PruningCallback(trial, s.space.metric)
        start = time.perf_counter()
        try:
            metrics = self.run_trial(overrides, trial_dir, [pruning], False)
        except optuna.TrialPruned:
            self.last_failed = False
            s.log(f"trial {trial.number:>3}  pruned after evaluation {pruning.pruned_at}   {shown}")
            raise
        except TrainingDiverged as exc:
            self.last_error = exc.message
            s.log(f"trial {trial.number:>3}  failed: {exc.message}   {shown}")
            raise
        kept = {k: _number(v) for k, v in metrics.items() if not k.startswith("test_") and _number(v) is not None}
        trial.set_user_attr("metrics", kept)
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 2))
        if s.space.metric not in metrics:
            raise ConfigError(f"the sweep selects on {s.space.metric!r}, but recipe {s.recipe!r} returned only "
                              f"{', '.join(sorted(kept)) or 'no metrics'}",
                              fix="set metric: in the search space to one of the val_* names listed")
        value = _number(metrics[s.space.metric])
        if value is None:
            self.last_error = f"{s.space.metric} is {metrics[s.space.metric]!r}"
            s.log(f"trial {trial.number:>3}  failed: {self.last_error}   {shown}")
            raise TrainingDiverged(f"trial {trial.number}: {self.last_error}")
        self.last_failed = False
        s.log(f"trial {trial.number:>3}  {s.space.metric}={value:.4f}   {shown}")
        return value


def final_evaluation(study: optuna.Study, s: SweepSettings, run_trial: TrialRunner) -> dict[str, Any]:
    """Re-run the best configuration once, in full, with test evaluation; write best.json."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise TrainingDiverged("no trial of the sweep completed, so there is no best configuration",
                               fix="look at trials.csv and the trial directories for what went wrong")
    best = study.best_trial
    overrides = best.user_attrs.get("overrides") or (
        s.base_overrides + to_overrides(s.space.fixed) + to_overrides(decode_params(s.space, best.params)))
    final_dir = s.out_dir / f"best-trial-{best.number:04d}"
    done = final_dir / "metrics.json"
    if done.is_file():  # evaluated before (a resumed sweep): the test split is used once
        metrics = json.loads(done.read_text(encoding="utf-8"))
        s.log(f"best trial {best.number} was already evaluated in {final_dir}")
    else:
        s.log(f"re-running the best configuration (trial {best.number}) with test evaluation in {final_dir}")
        metrics = run_trial(overrides, final_dir, [], True)
    counts = {state.name.lower(): 0 for state in TrialState}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name.lower()] += 1
    report = {
        "recipe": s.recipe, "study": s.name, "storage": redact(s.storage_url),
        "method": s.method, "pruner": s.pruner,
        "selected_on": "validation", "metric": s.space.metric, "direction": s.space.direction,
        "best_trial": {"number": best.number, "value": best.value,
                       "params": decode_params(s.space, best.params), "overrides": overrides,
                       "dir": best.user_attrs.get("dir")},
        "final_run": {"dir": str(final_dir),
                      "validation": {k: v for k, v in metrics.items() if k.startswith("val_")},
                      "test": {k: v for k, v in metrics.items() if k.startswith("test_")},
                      "other": {k: v for k, v in metrics.items() if not k.startswith(("val_", "test_"))}},
        "trials": {k: v for k, v in counts.items() if v},
        "note": "hyper-parameters were selected on the validation split; the test split was "
                "evaluated once, for the selected configuration only",
    }
    write_json(s.out_dir / "best.json", report)
    return report


def _fail_stale_trials(study: optuna.Study) -> None:
    """Mark RUNNING trials whose worker stopped sending heartbeats (killed, lost) as FAIL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def write_trials_csv(study: optuna.Study, s: SweepSettings) -> Path:
    """All trials of the study (every worker's) as a table, best first."""
    trials = study.get_trials(deepcopy=False)
    names = list(s.space.searched)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["number", "state", s.space.metric, "last_epoch", "stage", "seconds", *names, "worker", "dir"])
    reverse = s.space.direction == "maximize"
    order = sorted(trials, key=lambda t: (t.state != TrialState.COMPLETE,
                                          (-1 if reverse else 1) * (t.value if t.value is not None else 0.0)))
    for t in order:
        params = decode_params(s.space, t.params)
        writer.writerow([t.number, t.state.name, "" if t.value is None else t.value,
                         t.last_step if t.last_step is not None else "", t.user_attrs.get("stage", ""),
                         t.user_attrs.get("seconds", ""), *[_cell(params.get(n, "")) for n in names],
                         t.user_attrs.get("worker", ""), t.user_attrs.get("dir", "")])
    path = s.out_dir / "trials.csv"
    atomic_write_text(path, buf.getvalue())
    return path


def _check_dir(s: SweepSettings) -> dict:
    """sweep.yaml's content; when one exists, check that it describes this same sweep (a resume)."""
    meta = {"recipe": s.recipe, "study": s.name, "storage": redact(s.storage_url),
            "space_file": s.space.source, "space_fingerprint": s.space.fingerprint(),
            "metric": s.space.metric, "direction": s.space.direction, "method": s.method,
            "pruner": s.pruner, "trials": s.n_trials, "base_overrides": s.base_overrides}
    path = s.out_dir / "sweep.yaml"
    if path.is_file():
        old = read_yaml(path) or {}
        for key in ("recipe", "study", "storage", "space_fingerprint"):
            if old.get(key) != meta[key]:
                raise ConfigError(f"{s.out_dir} holds another sweep ({key}: {old.get(key)!r}, now {meta[key]!r})",
                                  fix="pass --out with a new directory")
    return meta


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else json.dumps(value) if isinstance(value, list) else str(value)


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value
