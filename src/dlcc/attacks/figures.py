"""Figures of an attack: accuracy against ε, and a panel of attacked examples (true → predicted).

matplotlib's object API (`Figure`, no pyplot): no display needed, no global state left behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from torch import Tensor


def _save(fig, path: str | Path) -> Path:
    from dlcc.utils.plots import save_figure

    return save_figure(fig, path)


def plot_accuracy_curve(curves: dict[str, list[dict]], path: str | Path, title: str = "",
                        eps_unit: float | None = 1 / 255) -> Path:
    """Accuracy (y) against ε (x) for each named list of rows `{"eps", "accuracy"}`; ε in
    multiples of `eps_unit` (grey levels for 1/255; None: as is)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.8))
    ax = fig.subplots()
    for name, rows in curves.items():
        eps = [r["eps"] / eps_unit if eps_unit else r["eps"] for r in rows]
        ax.plot(eps, [r["accuracy"] for r in rows], marker="o", label=name)
    ax.set(xlabel="ε (× 1/255)" if eps_unit else "ε", ylabel="accuracy", ylim=(0, 1), title=title)
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend()
    return _save(fig, path)


def _show(ax, x: np.ndarray) -> None:
    if x.ndim == 1:                                   # a signal
        ax.plot(x, lw=1)
        return
    img = x[0] if x.shape[0] == 1 else x.transpose(1, 2, 0)
    ax.imshow(np.clip(img, 0, 1), cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")


def plot_examples(columns: dict[str, Tensor], predictions: dict[str, Sequence[int]], labels: Sequence[int],
                  classes: Sequence[str], path: str | Path, title: str = "") -> Path:
    """One row per example, one column per named input set (e.g. "clean", "ε=8/255"): each cell
    shows the input and "true → predicted" (red when wrong)."""
    from matplotlib.figure import Figure

    names = list(columns)
    n = len(labels)
    fig = Figure(figsize=(1.9 * len(names), 1.9 * n + 0.4))
    axes = np.asarray(fig.subplots(n, len(names), squeeze=False))
    for j, name in enumerate(names):
        for i in range(n):
            ax = axes[i, j]
            _show(ax, columns[name][i].detach().cpu().numpy())
            pred, true = int(predictions[name][i]), int(labels[i])
            head = f"{name}\n" if i == 0 else ""
            ax.set_title(f"{head}{classes[true]} → {classes[pred]}", fontsize=8,
                         color="black" if pred == true else "red")
            ax.set_xticks([]), ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)
