"""Training curves as one PNG: loss (left) and accuracy (right, when present) per epoch, train
vs validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def _as_columns(history: Mapping | Sequence[Mapping]) -> dict[str, list]:
    """A history as lists by key: `Trainer.history` (a list of per-epoch dicts, keys may be
    missing in some epochs) or already a dict of lists (the NumPy engine's `fit`)."""
    if isinstance(history, Mapping):
        columns = {k: list(v) for k, v in history.items()}
        n = max((len(v) for v in columns.values()), default=0)
        columns.setdefault("epoch", list(range(1, n + 1)))
        return columns
    keys = {k for row in history for k in row}
    columns = {k: [row.get(k) for row in history] for k in keys}
    columns["epoch"] = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    return columns


def plot_history(history: Mapping | Sequence[Mapping], path: str | Path, title: str = "") -> Path:
    """Save the curves of "train_loss", "val_loss", "train_accuracy", "val_accuracy" (any subset).

    Args:
        history: a list of per-epoch dicts with "epoch" (`Trainer.history`), or a dict of
            per-epoch lists (optionally with "epoch").
        path: the PNG to write (parent folders are created).
    Returns the PNG path.
    """
    from matplotlib.figure import Figure  # no pyplot: works without a display and in threads

    columns = _as_columns(history)
    has_accuracy = any(v is not None for s in ("train", "val") for v in columns.get(f"{s}_accuracy", []))
    panels = ["loss"] + (["accuracy"] if has_accuracy else [])
    fig = Figure(figsize=(5 * len(panels), 3.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, metric in zip(axes, panels):
        for split, style in (("train", "-"), ("val", "--")):
            values = columns.get(f"{split}_{metric}") or []
            if any(v is not None for v in values):
                ax.plot(columns["epoch"][: len(values)], [float("nan") if v is None else v for v in values],
                        style, marker="o", ms=3, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
