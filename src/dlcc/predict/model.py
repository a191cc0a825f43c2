"""What `dlcc predict` runs: a run directory, an exported model file, or a model shipped inside
dlcc - each opened into one `PredictModel` with its task, config and artifacts.

    model = open_model("runs/ecg-rpeak-tcn-20261204")        # dlcc.recipes.load_run
    model = open_model("cifar10-fast.onnx")                  # dlcc.export.load_exported
    model = open_model("ecg-rpeak", shipped=True)            # src/dlcc/predict/models/ecg-rpeak
    model.task, model.artifacts["input"], model(x_numpy)     # logits out

A run keeps its PyTorch (or NumPy) model, so predictions are computed exactly as the recipe's
own evaluation computed them; an export runs in onnxruntime or TorchScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlcc.errors import DataError

MODELS_DIR = Path(__file__).resolve().parent / "models"
SHIPPED = {"ecg-rpeak": "R-peak detector for any ECG (cross-validated TCN ensemble, docs/ecg-rpeak-model.md)"}


@dataclass
class PredictModel:
    """A model ready for prediction.

    Attributes:
        name: how outputs name it (the run folder, the file, or the shipped name).
        source: the run directory or model file.
        recipe, task: the recipe that trained it and what it does ("classification",
            "segmentation", "ecg-rpeak", "language-model").
        config: the run's config as a dict.
        artifacts: label names ("classes"), preprocessing ("input"), thresholds ("detect",
            "threshold"), vocabulary ("vocab").
        module: the torch.nn.Module (or NumPy model) of a run; None for an export.
        exported: the `dlcc.export.ExportedModel` of an export; None for a run.
    """

    name: str
    source: Path
    recipe: str
    task: str
    config: dict
    artifacts: dict
    module: Any = None
    exported: Any = None
    metrics: dict = field(default_factory=dict)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The model's raw output (logits) for a preprocessed float32 batch."""
        if self.exported is not None:
            return np.asarray(self.exported(x))
        if not _is_torch(self.module):
            return np.asarray(self.module.forward(np.asarray(x, dtype=np.float64)))
        import torch

        with torch.no_grad():
            return self.module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).float().numpy()

    @property
    def is_torch(self) -> bool:
        return self.module is not None and _is_torch(self.module)


def _is_torch(module) -> bool:
    import torch

    return isinstance(module, torch.nn.Module)


def shipped_path(name: str) -> Path:
    if name not in SHIPPED:
        raise DataError(f"dlcc ships no model called {name!r} (it ships: {', '.join(SHIPPED)})",
                        fix="use --model ecg-rpeak, or give a run directory or exported model file")
    path = MODELS_DIR / name
    if not (path / "model.pt").is_file():
        raise DataError(f"the shipped model {name!r} is missing from this installation ({path})",
                        fix="reinstall dlcc (pip install --force-reinstall dlcc)")
    return path


def open_model(ref: str | Path, shipped: bool = False) -> PredictModel:
    """Open a run directory, an exported model file, or (with `shipped`) a model dlcc ships."""
    if shipped:
        model = _open_run(shipped_path(str(ref)))
        model.name = str(ref)
        return model
    path = Path(ref)
    if path.is_dir():
        return _open_run(path)
    if path.is_file():
        from dlcc.export import load_exported

        exported = load_exported(path)
        meta = exported.metadata
        return PredictModel(path.stem, path, str(meta["recipe"]), str(meta["task"]), dict(meta.get("config") or {}),
                            dict(exported.artifacts), exported=exported)
    raise DataError(f"{path} does not exist",
                    fix="give a run directory (written by `dlcc run`), an exported model (`dlcc export`), "
                        "or a shipped model: --model ecg-rpeak")


def _open_run(path: Path) -> PredictModel:
    from dlcc.config import to_dict
    from dlcc.recipes import load_run

    run = load_run(path)
    return PredictModel(path.name, path, run.recipe.name, getattr(run.recipe, "task", "classification"),
                        to_dict(run.config), dict(run.artifacts), module=run.model, metrics=run.metrics or {})
