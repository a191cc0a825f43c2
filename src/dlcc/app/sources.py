"""Which models the app can open: finished runs and exports in the runs folder, and the models
dlcc ships.

    choices = find_models(Path("runs"))          # cheap: reads config.yaml, loads no weights
    model = open_choice(choices[0])              # dlcc.predict.open_model (weights_only=True)
    require_task(model, "classification")        # another task's model: a DataError to show

A run is a folder with config.yaml and metrics.json (a finished `dlcc run`); an export is a
`.onnx` file or a TorchScript `.pt` archive written by `dlcc export` (a run's own model.pt is
a state dict, not an export, and is never listed on its own).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from dlcc.errors import ConfigError, DataError

PAGE_OF_TASK = {"classification": "Classify images", "segmentation": "Segment microscopy",
                "ecg-rpeak": "ECG R peaks"}


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model chooser.

    Attributes:
        label: what the chooser shows.
        ref: the run directory, the export file, or the shipped model's name.
        kind: "run" | "export" | "shipped".
        task: the recipe's task for runs and shipped models; None for exports until opened.
    """

    label: str
    ref: str
    kind: str
    task: str | None = None


def check_runs_dir(runs: str | Path) -> Path:
    """`runs` as a Path; a `ConfigError` when it does not exist or is a file."""
    path = Path(runs).expanduser()
    if not path.exists():
        raise ConfigError(f"runs folder {path} does not exist",
                          fix="give a folder that holds run directories (written by `dlcc run`) or exported models")
    if not path.is_dir():
        raise ConfigError(f"runs folder {path} is a file, not a folder", fix="give the folder that holds the runs")
    return path


def _run_task(run_dir: Path) -> str | None:
    """The task of a finished run's recipe, or None when the folder is not a readable run."""
    from dlcc.recipes.registry import get_recipe
    from dlcc.utils.io import read_yaml

    try:
        recorded = read_yaml(run_dir / "config.yaml")
        return str(getattr(get_recipe(str(recorded["recipe"])), "task", "classification"))
    except Exception:   # a damaged or foreign config.yaml: listed as unknown, refused when opened
        return None


def _is_export(path: Path) -> bool:
    return path.suffix.lower() == ".onnx" or (path.suffix.lower() == ".pt" and zipfile.is_zipfile(path)
                                              and path.name != "model.pt")


def find_models(runs: Path | None, shipped: bool = True) -> list[ModelChoice]:
    """Runs (folders with config.yaml and metrics.json) and exports directly inside `runs`
    (and `runs` itself when it is a run), newest first, then the shipped models."""
    from dlcc.predict import SHIPPED

    found: list[ModelChoice] = []
    if runs is not None and runs.is_dir():
        entries = [runs, *sorted(runs.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)]
        for path in entries:
            if path.is_dir() and (path / "config.yaml").is_file() and (path / "metrics.json").is_file():
                task = _run_task(path)
                found.append(ModelChoice(f"{path.name} (run, {task or 'unreadable config'})", str(path), "run", task))
            elif path.is_file() and _is_export(path):
                found.append(ModelChoice(f"{path.name} (exported)", str(path), "export"))
    if shipped:
        found += [ModelChoice(f"{name} (shipped with dlcc)", name, "shipped", "ecg-rpeak") for name in SHIPPED]
    return found


def open_choice(choice: ModelChoice):
    """The `dlcc.predict.PredictModel` of a choice (weights read with weights_only=True)."""
    from dlcc.predict import open_model

    return open_model(choice.ref, shipped=choice.kind == "shipped")


def open_path(text: str) -> ModelChoice:
    """A choice for a path the user typed: a run directory or an export file."""
    path = Path(text.strip()).expanduser()
    if not text.strip():
        raise ConfigError("no path given", fix="type a run directory or an exported model file")
    if not path.exists():
        raise DataError(f"{path} does not exist",
                        fix="give a run directory (written by `dlcc run`) or an exported model (`dlcc export`)")
    return ModelChoice(path.name, str(path), "run" if path.is_dir() else "export")


def require_task(model, task: str) -> None:
    """A `DataError` naming the model's task and the page for it when it is not `task`."""
    if model.task != task:
        page = PAGE_OF_TASK.get(model.task)
        where = f"open it on the '{page}' page" if page else "this app has no page for it"
        raise DataError(f"{model.name} is a {model.task} model (recipe {model.recipe}), but this page needs a "
                        f"{task} model", fix=f"choose a {task} model here, or {where}")
