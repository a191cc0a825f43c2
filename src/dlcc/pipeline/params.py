"""params.yaml: the recipe's whole config, plus a `pipeline` section for what only the
pipeline decides (which recipe, how many threads, the export format).

    pipeline: {recipe: mnist1d-mlp, threads: 1, export_format: onnx}
    seed: 0
    data: {...}                     # the recipe's sections, exactly as `dlcc run RECIPE --show`
    model: {...}
    train: {epochs: 50, ...}

The recipe's keys stay at the top level so that `dvc exp run --set-param train.epochs=3` and
`dlcc run --set train.epochs=3` name a setting the same way. Every read goes through the
recipe's typed config: a hand-edited params.yaml is checked like a `--set`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dlcc.config import apply_overrides, from_dict, setting, to_dict, validate
from dlcc.errors import ConfigError
from dlcc.recipes.registry import Recipe, get_recipe
from dlcc.utils.io import read_yaml

PARAMS_FILE = "params.yaml"
SECTION = "pipeline"
TIMING_SUFFIX = "_time_s"


@dataclass
class PipelineSettings:
    recipe: str = setting("mnist1d-mlp", "the recipe this pipeline trains")
    # One fixed thread count makes float reductions add up in the same order on every run, so a
    # fresh clone reproduces metrics.json exactly (on the same kind of CPU and torch version).
    threads: int = setting(1, "torch CPU threads of every stage (fixed, for reproducible metrics)", ge=1)
    export_format: Literal["onnx", "torchscript"] = setting("onnx", "the export stage's file format")


def is_timing(key: str) -> bool:
    """Timings vary from run to run: they go to timings.json, never to metrics.json."""
    return key.endswith(TIMING_SUFFIX)


def make_params(recipe: Recipe, overrides: list[str], preset: str | None = None) -> dict[str, Any]:
    """params.yaml's content for `recipe` with `--set` overrides (`pipeline.threads=2` included)."""
    mine = [o for o in overrides if o.strip().startswith(f"{SECTION}.")]
    theirs = [o for o in overrides if o not in mine]
    cfg = recipe.make_config(theirs, preset=preset)
    data = to_dict(cfg)
    if SECTION in data:   # no recipe uses the name today; refuse rather than mix two meanings
        raise ConfigError(f"recipe {recipe.name!r} has its own {SECTION!r} setting, which params.yaml reserves",
                          fix="rename that setting in the recipe")
    settings = apply_overrides(PipelineSettings(recipe=recipe.name), [o.strip()[len(SECTION) + 1:] for o in mine])
    settings = validate(settings)
    return {SECTION: to_dict(settings), **data}


def load_params(path: str | Path = PARAMS_FILE) -> tuple[PipelineSettings, Recipe, Any]:
    """(pipeline settings, recipe, the recipe's validated config) from params.yaml."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} does not exist: stages run in a pipeline directory",
                          fix="cd into the folder `dlcc pipeline init` made (it holds dvc.yaml) and run `dvc repro`")
    try:
        data = read_yaml(path)
    except Exception as exc:   # yaml syntax, undecodable bytes
        raise ConfigError(f"{path} cannot be read: {str(exc).splitlines()[0][:200]}",
                          fix=f"fix the YAML in {path}") from None
    if not isinstance(data, dict) or not isinstance(data.get(SECTION), dict):
        raise ConfigError(f"{path} has no '{SECTION}:' section naming the recipe",
                          fix="restore it from git (`git checkout params.yaml`)")
    data = dict(data)
    settings = validate(from_dict(PipelineSettings(), data.pop(SECTION), f"{path} ({SECTION})", prefix=f"{SECTION}."))
    recipe = get_recipe(settings.recipe)
    cfg = validate(from_dict(recipe.defaults(), data, str(path)))
    return settings, recipe, cfg
