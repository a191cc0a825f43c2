"""Figures of generated samples: nearest training neighbours, real vs generated beats, lead
translations, and a table of the Fréchet distances with their controls. Object-API
matplotlib (no pyplot), so they work without a display; each returns the PNG path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _save(fig, path: str | Path) -> Path:
    from dlcc.utils.plots import save_figure

    return save_figure(fig, path)


def plot_nearest(generated: np.ndarray, neighbours: np.ndarray, distances: Sequence[float], path: str | Path,
                 threshold: float, title: str = "") -> Path:
    """Generated images (top row) above their nearest training images (bottom row), with the
    distance; a distance below `threshold` (the held-out 1 % quantile) is marked in red.
    Images `[n, 1, H, W]` in [-1, 1]."""
    n = len(generated)
    fig = _figure(1.1 * n, 2.6)
    axes = fig.subplots(2, n, squeeze=False)
    for i in range(n):
        for row, image in ((0, generated[i]), (1, neighbours[i])):
            ax = axes[row, i]
            ax.imshow(np.asarray(image)[0], cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        close = distances[i] < threshold
        axes[1, i].set_title(f"{distances[i]:.1f}", fontsize=8, color="red" if close else "black")
    axes[0, 0].set_ylabel("generated", fontsize=8)
    axes[1, 0].set_ylabel("nearest\ntraining", fontsize=8)
    fig.suptitle(title or f"nearest training images (L2 distance; a near-copy would be < {threshold:.1f})", fontsize=9)
    return _save(fig, path)


def plot_beats(real: dict[str, np.ndarray], generated: dict[str, np.ndarray], path: str | Path, fs: float = 360.0,
               before: int = 90, n: int = 8, title: str = "") -> Path:
    """One column per class: `n` real beats (top) and `n` generated beats (bottom), each panel
    overlaid, with the mean in black; beats `[k, L]`, time in ms from the R peak."""
    classes = list(real)
    fig = _figure(4.2 * len(classes), 5.0)
    axes = fig.subplots(2, len(classes), squeeze=False, sharey=True)
    for j, name in enumerate(classes):
        for i, (kind, beats) in enumerate((("real", real[name]), ("generated", generated[name]))):
            ax = axes[i, j]
            t = (np.arange(beats.shape[1]) - before) / fs * 1000
            for beat in beats[:n]:
                ax.plot(t, beat, lw=0.7, alpha=0.6)
            ax.plot(t, beats.mean(axis=0), color="black", lw=1.6, label="mean")
            ax.set_title(f"{kind} {name} beats", fontsize=9)
            ax.axvline(0, color="grey", lw=0.5, ls=":")
            if i == 1:
                ax.set_xlabel("ms from the R peak")
        axes[0, j].set_ylabel("z-scored lead")
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_translation(source: np.ndarray, truth: np.ndarray, translated: np.ndarray, path: str | Path,
                     names: tuple[str, str], fs: float = 360.0, title: str = "") -> Path:
    """Rows of (source lead, true other lead, translated lead) for a few held-out segments `[k, L]`."""
    k = len(source)
    fig = _figure(10, 1.9 * k)
    axes = fig.subplots(k, 1, squeeze=False)
    t = np.arange(source.shape[1]) / fs
    for i in range(k):
        ax = axes[i, 0]
        ax.plot(t, source[i], color="grey", lw=0.8, label=f"{names[0]} (input)")
        ax.plot(t, truth[i], color="black", lw=1.2, label=f"{names[1]} (recorded)")
        ax.plot(t, translated[i], color="tab:red", lw=1.0, ls="--", label=f"{names[1]} (translated)")
        if i == 0:
            ax.legend(fontsize=7, loc="upper right", ncol=3)
    axes[-1, 0].set_xlabel("seconds")
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def format_quality(rows: dict[str, dict[str, float]], keys: Sequence[tuple[str, str]]) -> str:
    """A fixed-width table: one row per name, one column per (key, header)."""
    width = max(len(r) for r in rows) + 2
    head = "".ljust(width) + "".join(h.rjust(12) for _, h in keys)
    lines = [head]
    for name, row in rows.items():
        cells = []
        for key, _ in keys:
            v = row.get(key)
            cells.append(("-" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)).rjust(12))
        lines.append(name.ljust(width) + "".join(cells))
    return "\n".join(lines)
