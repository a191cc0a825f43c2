"""The recipe contract and the registry that discovers recipes.

A recipe module defines (data + model + defaults + its own evaluation and figures):

    @dataclass
    class Config:                                  # typed settings, see dlcc.config
        seed: int = setting(0, "random seed", ge=0)
        model: MLPModel = section(MLPModel, hidden=[256, 256])
        train: TrainConfig = section(TrainConfig, epochs=50, lr=3e-3, select="val_accuracy")

    RECIPE = Recipe(
        name="mnist1d-mlp",
        summary="MLP on MNIST-1D (generated offline)",
        data="mnist1d",
        config=Config,                             # a zero-argument callable giving the defaults
        run=run,                                   # run(cfg, ctx) -> dict of metrics
        build_model=build_model,                   # (cfg, artifacts) -> the network, for load_run
        presets={"course": {"train.lr": 5.0}},     # named overlays; --set still wins
        task="classification",                     # what dlcc predict / export do with its model
    )

`run` gets the validated config and a `RunContext`, trains through
`dlcc.train.train_and_report` and returns final metrics with stable keys (`test_accuracy`,
`val_loss`, `test_dice`, `test_f1`, `n_params`, `train_time_s`, ...). The runner
(`runner.py`) writes `config.yaml` and `metrics.json`.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlcc.config import apply_overrides, apply_values, validate
from dlcc.errors import ConfigError
from dlcc.train.context import RunContext

__all__ = ["Recipe", "RunContext", "get_recipe", "list_recipes"]


@dataclass
class Recipe:
    name: str
    summary: str
    data: str
    config: Callable[[], Any]
    run: Callable[[Any, RunContext], dict]
    build_model: Callable[[Any, dict], Any] | None = None
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: tuple[str, ...] = field(default_factory=tuple)
    resumable: bool = True        # writes checkpoints that --resume can continue from
    lightning: bool = True        # can train under PyTorch Lightning (--engine lightning)
    # what the model does, for predict / export: classification, segmentation, ecg-rpeak, language-model
    task: str = "classification"
    distributed: bool = True      # can train on several processes (--nproc, dlcc slurm)

    def defaults(self) -> Any:
        """A fresh instance of the recipe's default config."""
        return self.config()

    def make_config(self, overrides: list[str] = (), preset: str | None = None, seed: int | None = None) -> Any:
        """Defaults, then the preset, then the `--set` overrides, then `--seed`; validated."""
        cfg = self.defaults()
        if preset:
            if preset not in self.presets:
                known = ", ".join(self.presets) or "none"
                raise ConfigError(f"recipe {self.name!r} has no preset {preset!r} (its presets: {known})",
                                  fix=f"see `dlcc run {self.name} --show`" if not self.presets else
                                      f"--preset {next(iter(self.presets))}")
            cfg = apply_values(cfg, self.presets[preset], source=f"preset {preset!r}")
        for text in overrides:
            if text.split("=", 1)[0].strip() == "preset":
                raise ConfigError("presets are chosen with --preset, not --set preset=...",
                                  fix=f"dlcc run {self.name} --preset {text.split('=', 1)[-1].strip() or 'NAME'}")
        cfg = apply_overrides(cfg, list(overrides))
        if seed is not None:
            cfg = apply_values(cfg, {"seed": seed})
        return validate(cfg)


def _discover() -> dict[str, Recipe]:
    import dlcc.recipes as package

    found: dict[str, Recipe] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in {"registry", "runner", "load"} or info.name.startswith("_"):
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
