"""Opening a run directory: `load_run(DIR)` gives back the config, the model with its kept
weights, and what the run recorded to use it (label names, preprocessing, a chosen threshold).

    run = load_run("runs/cifar10-cnn-20261204-101500")
    run.recipe.name, run.config.train.lr          # the typed config, as it ran
    run.model                                     # nn.Module in eval mode, weights from model.pt
    run.artifacts["classes"], run.artifacts["input"]   # labels and preprocessing
    run.metrics["test_accuracy"]

Everything that reads a run directory goes through here: `--resume` (`load_recorded`), and the
predict, export, explain and serve commands. Weights are read with `weights_only=True`
(model.pt for PyTorch recipes) or from weights.npz + artifacts.json (NumPy recipes): opening a
run never executes code from its files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlcc.config import from_dict, validate
from dlcc.errors import ConfigError, DataError
from dlcc.recipes.registry import Recipe, get_recipe
from dlcc.utils.io import read_yaml

CONFIG_FILE = "config.yaml"
MODEL_FILE = "model.pt"


@dataclass
class LoadedRun:
    path: Path
    recipe: Recipe
    config: Any
    model: Any                       # torch nn.Module (eval mode), or a dlcc.scratch model
    artifacts: dict[str, Any]        # "classes", "input" (preprocessing), "detect", "vocab", ...
    metrics: dict[str, Any] | None   # metrics.json, when the run finished

    @property
    def labels(self) -> list[str] | None:
        return self.artifacts.get("classes")

    @property
    def preprocessing(self) -> dict:
        return self.artifacts.get("input") or {}


def load_run(path: str | Path, device: str = "cpu") -> LoadedRun:
    """Open the finished run in `path` (see the module docstring)."""
    path = Path(path)
    recipe, cfg, _ = load_recorded(path, "load_run")
    if recipe.build_model is None:
        raise ConfigError(f"recipe {recipe.name!r} has no model to load", fix="open a run of a training recipe")
    metrics_file = path / "metrics.json"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else None
    if (path / "weights.npz").is_file():
        model, artifacts = _numpy_model(path, recipe, cfg)
    else:
        model, artifacts = _torch_model(path, recipe, cfg, device)
    return LoadedRun(path, recipe, cfg, model, artifacts, metrics)


def _torch_model(path: Path, recipe: Recipe, cfg: Any, device: str):
    from dlcc.train.checkpoint import load_checkpoint

    file = path / MODEL_FILE
    if not file.is_file():
        raise DataError(f"{path} has no {MODEL_FILE}: the run has not finished",
                        fix=f"finish it with `dlcc run --resume --out {path}`")
    state = load_checkpoint(file)
    if state.get("format") != "dlcc-model" or "model" not in state:
        raise DataError(f"{file} is not a dlcc model file (no 'format: dlcc-model')",
                        fix="point to a run directory written by `dlcc run`")
    artifacts = state.get("artifacts") or {}
    model = recipe.build_model(cfg, artifacts)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise DataError(f"the weights in {file} do not fit the model its config.yaml describes: "
                        f"{str(exc).splitlines()[0][:200]}", fix="was config.yaml edited? restore it") from None
    return model.to(device).eval(), artifacts


def _numpy_model(path: Path, recipe: Recipe, cfg: Any):
    import numpy as np

    artifacts_file = path / "artifacts.json"
    if not artifacts_file.is_file():
        raise DataError(f"{path} has weights.npz but no artifacts.json", fix="re-run the recipe")
    artifacts = json.loads(artifacts_file.read_text(encoding="utf-8"))
    model = recipe.build_model(cfg, artifacts)
    with np.load(path / "weights.npz", allow_pickle=False) as weights:
        model.load_state_dict({k: weights[k] for k in weights.files})
    model.eval()
    return model, artifacts


def load_recorded(out_dir: Path, why: str = "") -> tuple[Recipe, Any, dict]:
    """(recipe, validated config, the whole config.yaml) of an existing run directory; `why`
    (e.g. "--resume") starts the error messages."""
    path = out_dir / CONFIG_FILE
    lead = f"{why}: " if why else ""
    if not out_dir.exists():
        raise ConfigError(f"{lead}run directory {out_dir} does not exist",
                          fix="check the path (`ls runs/` lists the runs made with default names)")
    if not out_dir.is_dir():
        raise ConfigError(f"{lead}{out_dir} is a file, not a run directory", fix="point to a run directory")
    if not path.is_file():
        raise ConfigError(f"{lead}{out_dir} is not a dlcc run directory (it has no {CONFIG_FILE})",
                          fix="point to a directory written by `dlcc run`")
    try:
        recorded = read_yaml(path)
    except Exception as exc:   # yaml errors, undecodable bytes
        raise ConfigError(f"{path} cannot be read: {str(exc).splitlines()[0][:200]}",
                          fix=f"restore {path} or start a new run") from None
    if not isinstance(recorded, dict) or "recipe" not in recorded or "config" not in recorded:
        raise ConfigError(f"{path} does not describe a dlcc run (no recipe and config entries)",
                          fix="point to a directory written by `dlcc run`")
    recipe = get_recipe(str(recorded["recipe"]))
    cfg = validate(from_dict(recipe.defaults(), recorded["config"], str(path)))
    return recipe, cfg, recorded


