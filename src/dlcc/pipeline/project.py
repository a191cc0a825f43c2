"""`dlcc pipeline init RECIPE DIR`: write a DVC project that trains, tests and exports a recipe.

What is written (and nothing else; an existing DVC project or any of these files is refused):

    DIR/dvc.yaml       the four stages, each with exactly the params and files it reads
    DIR/params.yaml    the recipe's config (+ the `pipeline` section), see params.py
    DIR/.gitignore     Python caches (DVC adds its outputs to .gitignore itself)
    DIR/.dvc/          `dvc init` (with `--subdir` when DIR is inside a larger git repository)
    DIR/.git/          `git init`, only when DIR is not in a git repository already

DVC is configured for offline use (no analytics) and to stage its own files in git
(`core.autostage`), so `dvc repro` leaves a tree that `git commit` records completely.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from dlcc.errors import ConfigError
from dlcc.pipeline import tools
from dlcc.pipeline.datasets import dataset_for
from dlcc.pipeline.params import PARAMS_FILE, SECTION, make_params
from dlcc.recipes.registry import get_recipe

WRITTEN = ("dvc.yaml", PARAMS_FILE, ".gitignore")


def stage_command(name: str) -> str:
    return f"dlcc pipeline stage {name}"


def dvc_yaml(recipe_params: dict) -> dict:
    """The stages, each declaring the params and files it reads, so DVC re-runs exactly the
    stages a change reaches (a new train.epochs: train, evaluate, export; never prepare)."""
    sections = [k for k in recipe_params if k != SECTION]
    data_params = [k for k in ("seed", "data") if k in sections]
    train_params = [k for k in sections if k not in ("data",)]
    return {
        "stages": {
            "prepare": {"cmd": stage_command("prepare"),
                        "params": [f"{SECTION}.recipe", *data_params],
                        "outs": ["data"]},
            "train": {"cmd": stage_command("train"),
                      "deps": ["data/train_x.npy", "data/train_y.npy", "data/val_x.npy", "data/val_y.npy",
                               "data/manifest.json"],
                      "params": [f"{SECTION}.recipe", f"{SECTION}.threads", *train_params],
                      "outs": ["model"]},
            "evaluate": {"cmd": stage_command("evaluate"),
                         "deps": ["model", "data/test_x.npy", "data/test_y.npy"],
                         "params": [f"{SECTION}.threads"],
                         "metrics": [{"metrics.json": {"cache": False}}, {"timings.json": {"cache": False}}],
                         "plots": [{"eval/predictions.csv": {"template": "confusion", "x": "predicted",
                                                             "y": "actual", "cache": False}}]},
            "export": {"cmd": stage_command("export"),
                       "deps": ["model"],
                       "params": [f"{SECTION}.export_format"],
                       "outs": ["export"]},
        },
        # the learning curves live in the model's run directory (model/history.json)
        "plots": [{"loss": {"x": "epoch", "y": {"model/history.json": ["train_loss", "val_loss"]}}},
                  {"accuracy": {"x": "epoch", "y": {"model/history.json": ["train_accuracy", "val_accuracy"]}}}],
    }


@dataclass
class InitReport:
    path: Path
    recipe: str
    git_initialised: bool
    git_root: Path
    remote: str | None


def _refuse_existing(path: Path) -> None:
    if (path / "dvc.yaml").exists() or (path / ".dvc").exists():
        raise ConfigError(f"{path} already holds a DVC project (dvc.yaml or .dvc/); nothing was changed",
                          fix="choose a new folder for the pipeline, or run `dvc repro` in this one")
    for name in (*WRITTEN, ".dvcignore"):
        if (path / name).exists():
            raise ConfigError(f"{path / name} already exists; dlcc pipeline init does not overwrite it",
                              fix="choose a new (or empty) folder for the pipeline")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path} is a file, not a folder", fix="choose a folder for the pipeline")


def init_project(recipe_name: str, path: str | Path, overrides: list[str] = (), preset: str | None = None,
                 remote: str | None = None) -> InitReport:
    """Write the pipeline project for `recipe_name` into `path` (see the module docstring).

    Everything that can be refused (tools, recipe, settings, folder) is checked before the
    first file is written. `remote`: a folder to use as the default DVC remote (`dvc push`).
    """
    path = Path(path)
    tools.require("git", "dvc")
    recipe = get_recipe(recipe_name)
    dataset_for(recipe)
    params = make_params(recipe, list(overrides), preset)
    _refuse_existing(path)
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    path = path.resolve()
    root = tools.git_toplevel(path)
    try:
        _write(path, recipe.name, params, root, remote)
    except BaseException:
        _undo(path, created, git_made=root is None)   # a failed init leaves the folder as it found it
        raise
    return InitReport(path, recipe.name, root is None, root or path, str(remote) if remote else None)


def _write(path: Path, recipe_name: str, params: dict, root: Path | None, remote: str | None) -> None:
    if root is None:
        tools.run(["git", "init", "--quiet"], path)
        root = path
    (path / PARAMS_FILE).write_text(f"# params of the `{recipe_name}` pipeline (dlcc pipeline init); "
                                    f"`dlcc run {recipe_name} --show` explains each setting\n"
                                    + yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    (path / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml(params), sort_keys=False), encoding="utf-8")
    (path / ".gitignore").write_text("__pycache__/\n*.pyc\n", encoding="utf-8")
    tools.run(["dvc", "init", "--quiet", *([] if root == path else ["--subdir"])], path)
    tools.run(["dvc", "config", "core.analytics", "false"], path)
    tools.run(["dvc", "config", "core.autostage", "true"], path)
    if remote:
        remote_path = Path(remote).expanduser().resolve()
        remote_path.mkdir(parents=True, exist_ok=True)
        tools.run(["dvc", "remote", "add", "--default", "local", str(remote_path)], path)
    tools.run(["git", "add", "--", *WRITTEN, ".dvc", ".dvcignore"], path)


def _undo(path: Path, created: bool, git_made: bool) -> None:
    """Remove what init wrote (it refused to start where any of it existed)."""
    if created:
        shutil.rmtree(path, ignore_errors=True)
        return
    for name in (*WRITTEN, ".dvcignore"):
        (path / name).unlink(missing_ok=True)
    for name in (".dvc", *([".git"] if git_made else [])):
        shutil.rmtree(path / name, ignore_errors=True)
