"""Training curves as one PNG: loss (left) and each other metric (accuracy, dice, ...) in its
own panel, train vs validation, per epoch or per optimizer step; and `save_figure`, how every
dlcc figure is written."""

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


def _metric_names(columns: dict[str, list]) -> list[str]:
    """'loss' first, then every other name with a train_/val_ column that has values."""
    names = []
    for key in sorted(columns):
        split, _, name = key.partition("_")
        if split in ("train", "val") and name and name not in names and name not in ("time_s",) \
                and any(isinstance(v, (int, float)) for v in columns[key]):
            names.append(name)
    return sorted(names, key=lambda n: (n != "loss", n))


def plot_history(history: Mapping | Sequence[Mapping], path: str | Path, title: str = "",
                 x: str = "epoch") -> Path:
    """Save the train/validation curves of the loss and of every other metric in `history`.

    Args:
        history: a list of dicts with "epoch" (and "step"), one per evaluation
            (`Trainer.history`), or a dict of per-epoch lists (optionally with "epoch").
        path: the PNG to write (parent folders are created).
        x: "epoch" or "step" (optimizer steps; for runs that evaluate every N steps).
    Returns the PNG path.
    """
    from matplotlib.figure import Figure  # no pyplot: works without a display and in threads

    columns = _as_columns(history)
    xs = columns.get(x) if x in columns and all(v is not None for v in columns[x]) else columns["epoch"]
    x = x if xs is columns.get(x) else "epoch"
    panels = _metric_names(columns) or ["loss"]
    fig = Figure(figsize=(5 * len(panels), 3.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, metric in zip(axes, panels):
        for split, style in (("train", "-"), ("val", "--")):
            values = columns.get(f"{split}_{metric}") or []
            if any(v is not None for v in values):
                ax.plot(xs[: len(values)], [float("nan") if v is None else v for v in values],
                        style, marker="o", ms=3, label=split)
        ax.set_xlabel(x)
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


def save_figure(fig, path: str | Path, dpi: int = 100) -> Path:
    """Lay out `fig` and save it to `path` (its folder made if missing); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path
