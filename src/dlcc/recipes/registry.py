"""The recipe contract and the registry that discovers recipes.

A recipe module defines:

    RECIPE = Recipe(
        name="digits-mlp-numpy",
        summary="NumPy MLP on scikit-learn's digits (embedded, no download)",
        data="digits",
        defaults={"epochs": 30, "model": {"hidden": [64]}, ...},
        run=run,                      # run(cfg: dict, ctx: RunContext) -> dict of metrics
    )

`run` gets the merged config (defaults + `--set` overrides) and a `RunContext`, writes what it
likes into `ctx.out_dir` (plots, checkpoints) and returns final metrics with stable keys
(`test_accuracy`, `val_loss`, `test_dice`, `test_f1`, ...). The runner adds `train_time_s`
when the recipe does not, and writes `config.yaml` and `metrics.json`.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlcc.errors import ConfigError


@dataclass
class RunContext:
    """What a recipe needs to know about this run besides its config."""

    out_dir: Path
    device: str = "auto"           # resolved by the recipe with dlcc.utils.choose_device
    seed: int = 0
    tracker: str = "none"          # tb | mlflow | wandb | jsonl | none
    progress: bool = True          # show progress bars
    resume: bool = False           # continue from the last checkpoint in out_dir
    log: Callable[[str], None] = print
    # Extra dlcc.train callbacks (e.g. a tuner's pruner) that torch recipes pass to fit().
    callbacks: list = field(default_factory=list)
    # False: skip the test split (a tuner selecting on validation evaluates test only once,
    # for the best config); the recipe then returns no test_* metrics.
    evaluate_test: bool = True

    def open_tracker(self, cfg: dict, name: str | None = None, log_params: bool = True) -> tuple[Any, list]:
        """(tracker, [its TrackerCallback]) for `--tracker`, or (None, []) without one. `name`
        is the run's name in the tracker (default: the run directory's name)."""
        if not self.tracker or self.tracker == "none":
            return None, []
        from dlcc.track import TrackerCallback, make_tracker

        tracker = make_tracker(self.tracker, self.out_dir, name or self.out_dir.name, cfg)
        return tracker, [TrackerCallback(tracker, log_params=log_params)]


@dataclass
class Recipe:
    name: str
    summary: str
    data: str
    defaults: dict[str, Any]
    run: Callable[[dict, RunContext], dict]
    tags: tuple[str, ...] = field(default_factory=tuple)


def _discover() -> dict[str, Recipe]:
    import dlcc.recipes as package

    found: dict[str, Recipe] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in {"registry", "runner", "config"} or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"dlcc.recipes.{info.name}")
        recipes = getattr(module, "RECIPES", None) or [getattr(module, "RECIPE", None)]
        for recipe in recipes:
            if isinstance(recipe, Recipe):
                found[recipe.name] = recipe
    return dict(sorted(found.items()))


_CACHE: dict[str, Recipe] = {}


def list_recipes() -> dict[str, Recipe]:
    """All recipes by name (imports every recipe module once)."""
    if not _CACHE:
        _CACHE.update(_discover())
    return _CACHE


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`; a `ConfigError` with close matches when there is none."""
    recipes = list_recipes()
    if name in recipes:
        return recipes[name]
    close = difflib.get_close_matches(name, recipes, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise ConfigError(f"unknown recipe {name!r}", fix=f"{hint}see `dlcc run --list`")
