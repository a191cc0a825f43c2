"""The one tracker interface every backend implements, plus helpers they share.

A tracker records what happened during a run so it can be compared with other runs later:

    tracker.log_params({"optimizer.lr": 0.05, "model.hidden": [300, 200]})  # once, flattened
    tracker.log_metrics({"train_loss": 0.71, "val_accuracy": 0.52}, step=1760)
    tracker.log_figure("confusion", fig_or_png_path, step=1760)
    tracker.close()

`step` is always the trainer's global step (number of optimizer steps so far), so batch-level
and epoch-level values share one monotonically increasing x-axis in every backend.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any


class Tracker:
    """Base class: a tracker that records nothing. Backends override the four methods."""

    kind = "none"
    params_logged = False  # set by log_params, so TrackerCallback does not log them twice

    def log_params(self, params: dict[str, Any]) -> None:
        """Record hyper-parameters (nested dicts are flattened to dotted keys)."""
        self.params_logged = True
        self._log_params(params)

    def _log_params(self, params: dict[str, Any]) -> None:
        """Backends override this one."""

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Record scalar values at `step`; non-numeric and non-finite values are skipped."""

    def log_figure(self, name: str, figure_or_png_path: Any, step: int) -> None:
        """Record a matplotlib figure or an existing PNG file under `name` at `step`."""

    def close(self) -> None:
        """Flush and release files; calling it twice is harmless."""

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class MultiTracker(Tracker):
    """Fans every call out to several trackers (`make_tracker("tb,jsonl", ...)`)."""

    kind = "multi"

    def __init__(self, trackers: list[Tracker]):
        self.trackers = trackers

    def _log_params(self, params):
        for t in self.trackers:
            t.log_params(params)

    def log_metrics(self, metrics, step):
        for t in self.trackers:
            t.log_metrics(metrics, step)

    def log_figure(self, name, figure_or_png_path, step):
        for t in self.trackers:
            t.log_figure(name, figure_or_png_path, step)

    def close(self):
        for t in self.trackers:
            t.close()


def flatten_params(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'optimizer': {'lr': 0.1}} -> {'optimizer.lr': 0.1}. Leaves are kept as they are."""
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_params(value, name + "."))
        else:
            out[name] = value
    return out


def scalar_value(value: Any) -> float | None:
    """A finite float for numbers (Python, NumPy or 0-d torch), else None (skipped by trackers)."""
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def scalars(metrics: dict[str, Any]) -> dict[str, float]:
    """Keep only the finite numeric entries of `metrics`."""
    out = {}
    for key, value in (metrics or {}).items():
        number = scalar_value(value)
        if number is not None:
            out[str(key)] = number
    return out


def param_text(value: Any) -> str | int | float | bool:
    """A value every backend accepts as a hyper-parameter: scalars stay, the rest become JSON."""
    if value is None:
        return "None"
    if isinstance(value, (bool, int, float, str)):
        return value
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def save_png(figure_or_png_path: Any, dest: Path) -> Path:
    """Write a matplotlib figure, or copy an existing PNG, to `dest`; return `dest`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(figure_or_png_path, (str, Path)):
        src = Path(figure_or_png_path)
        if not src.is_file():
            from dlcc.errors import ConfigError

            raise ConfigError(f"figure file {src} does not exist", fix="pass a saved PNG path or a matplotlib figure")
        if src.resolve() != dest.resolve():
            shutil.copyfile(src, dest)
        return dest
    figure_or_png_path.savefig(dest, format="png", dpi=100, bbox_inches="tight")
    return dest


def png_array(figure_or_png_path: Any):
    """Return the image as a uint8 array of shape (H, W, 3) from a figure or PNG path."""
    import numpy as np

    if isinstance(figure_or_png_path, (str, Path)):
        from PIL import Image

        with Image.open(figure_or_png_path) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    fig = figure_or_png_path
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba(), dtype=np.uint8)
    return rgba[..., :3].copy()


def safe_name(name: str) -> str:
    """A tag usable as a file name: 'val/confusion matrix' -> 'val_confusion_matrix'."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("_") or "figure"
