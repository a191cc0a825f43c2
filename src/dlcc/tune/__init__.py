"""Hyper-parameter search on Optuna: search spaces, methods, pruning, shared studies.

    from dlcc.tune import load_space, SweepSettings, run_sweep
    space = load_space("space.yaml")            # dlcc schema or a wandb-style sweep dict
    report = run_sweep(SweepSettings("mnist1d-mlp", space, n_trials=20, out_dir=Path("sweep"),
                                     method="tpe", pruner="hyperband"), run_trial)

`dlcc sweep` wires `run_trial` to the recipes. Selection is on validation metrics only; the
best configuration is re-run once with test evaluation (best.json). See docs/tuning.md.
"""

from dlcc.tune.metric import resolve_metric
from dlcc.tune.space import Param, SearchSpace, load_space, parse_space

__all__ = ["Param", "SearchSpace", "SweepSettings", "load_space", "parse_space", "resolve_metric", "run_sweep"]


def __getattr__(name):
    # The sweep runner imports optuna and the training core; load it only when asked for.
    if name in ("SweepSettings", "run_sweep"):
        from dlcc.tune import sweep

        return getattr(sweep, name)
    raise AttributeError(name)
