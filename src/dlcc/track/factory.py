"""`make_tracker(kind, run_dir, run_name, config)`: choose a backend by name.

Kinds: "tb" (alias "tensorboard"), "mlflow", "wandb", "jsonl", "none", or several joined by
commas ("tb,jsonl") to log to each. An unknown kind, or a backend whose package is not
installed, is a `ConfigError` that names the pip command that fixes it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from dlcc.errors import ConfigError
from dlcc.track.base import MultiTracker, Tracker

# kind -> (module with the backend, class name, Python package it needs, pip requirement)
BACKENDS: dict[str, tuple[str, str, str, str]] = {
    "tb": ("dlcc.track.tensorboard", "TensorBoardTracker", "tensorboard", "tensorboard"),
    "mlflow": ("dlcc.track.mlflow_tracker", "MlflowTracker", "mlflow", "mlflow-skinny"),
    "wandb": ("dlcc.track.wandb_tracker", "WandbTracker", "wandb", "wandb"),
    "jsonl": ("dlcc.track.jsonl", "JsonlTracker", "json", ""),
}
ALIASES = {"tensorboard": "tb", "": "none", "off": "none", "null": "none"}
KINDS = ("tb", "mlflow", "wandb", "jsonl", "none")


def check_kind(kind: str) -> str:
    """Normalise `kind` and make sure its backend can be imported, before anything is opened."""
    kind = ALIASES.get(kind.strip().lower(), kind.strip().lower())
    if kind == "none":
        return kind
    if kind not in BACKENDS:
        raise ConfigError(f"unknown tracker {kind!r}; expected one of {', '.join(KINDS)}",
                          fix="use --tracker tb (TensorBoard), mlflow, wandb, jsonl or none")
    _, _, package, requirement = BACKENDS[kind]
    try:
        importlib.import_module(package)
    except ImportError as exc:
        raise ConfigError(f"tracker {kind!r} needs the Python package {package!r}, which is not "
                          f"installed ({exc})",
                          fix=f"pip install {requirement}   (or: pip install 'dlcc[track]')") from None
    return kind


def _open(kind: str, run_dir: Path, run_name: str) -> Tracker:
    if kind == "none":
        return Tracker()
    module_name, class_name, _, _ = BACKENDS[kind]
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(run_dir, run_name)


def make_tracker(kind: str | None, run_dir: str | Path, run_name: str | None = None,
                 config: dict[str, Any] | None = None) -> Tracker:
    """Open a tracker writing under `run_dir`; log `config` as its hyper-parameters.

    Args:
        kind: "tb" | "mlflow" | "wandb" | "jsonl" | "none", or a comma-separated list.
        run_dir: the run directory (each backend makes its own files or sub-folder there).
        run_name: name shown in the tracker's UI (default: the run directory's name).
        config: the run's (nested) config; logged flattened with `log_params` when given.
    """
    run_dir = Path(run_dir)
    run_name = run_name or run_dir.name
    kinds = [check_kind(k) for k in str(kind or "none").split(",")]
    trackers: list[Tracker] = []
    try:
        for k in kinds:
            trackers.append(_open(k, run_dir, run_name))
    except BaseException:
        for opened in trackers:  # do not leave a half-open wandb/mlflow run behind
            opened.close()
        raise
    tracker = trackers[0] if len(trackers) == 1 else MultiTracker(trackers)
    if config:
        tracker.log_params(config)
    return tracker
