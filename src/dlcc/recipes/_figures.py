"""Figures the vision recipes write: confusion matrix, top-losses panel, segmentation panels.

All use matplotlib's object API (`Figure`, no pyplot), so they work without a display and
leave no global state behind. Each function returns the PNG path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def plot_confusion(matrix, class_names: Sequence[str], path: str | Path, title: str = "") -> Path:
    """Confusion matrix (rows = true class, columns = predicted), counts and row-normalised colour."""
    cm = np.asarray(matrix, dtype=np.int64)
    k = len(cm)
    rows = cm.sum(1, keepdims=True).clip(min=1)
    fig = _figure(1.0 + 0.55 * k, 0.8 + 0.5 * k)
    ax = fig.subplots()
    ax.imshow(cm / rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] / rows[i, 0] > 0.5 else "black")
    ax.set_xticks(range(k), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(cm) / max(1, cm.sum())
    ax.set_title(title or f"confusion matrix (accuracy {acc:.4f})", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_top_losses(images: np.ndarray, true: Sequence[int], pred: Sequence[int], losses: Sequence[float],
                    probs: Sequence[float], class_names: Sequence[str], path: str | Path,
                    columns: int = 4) -> Path:
    """A grid of the samples with the largest loss ("look at your errors", lecture 5).

    images: uint8 `[N, H, W, 3]` (or `[N, H, W]`); each tile is titled
    "true / predicted", the loss, and the probability given to the true class.
    """
    n = len(images)
    columns = max(1, min(columns, n))
    rows = max(1, -(-n // columns))
    fig = _figure(2.1 * columns, 2.3 * rows)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes:
        ax.axis("off")
    for i in range(n):
        ax = axes[i]
        ax.imshow(images[i], cmap="gray" if images[i].ndim == 2 else None, interpolation="nearest")
        ax.set_title(f"{class_names[true[i]]} / {class_names[pred[i]]}\nloss {losses[i]:.2f}, "
                     f"p(true) {probs[i]:.2f}", fontsize=7)
    fig.suptitle("top losses (true / predicted)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _show_image(ax, image: np.ndarray) -> None:
    """`[C, H, W]` float image (any range) → displayed grey or RGB, stretched to its min..max."""
    img = np.asarray(image, dtype=np.float32)
    img = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
    lo, hi = float(img.min()), float(img.max())
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")


def plot_segmentation(images: Sequence[np.ndarray], masks: Sequence[np.ndarray], probs: Sequence[np.ndarray],
                      path: str | Path, titles: Sequence[str] | None = None, threshold: float = 0.5) -> Path:
    """Rows of image | true mask | predicted probability | errors, one row per sample.

    images `[C, H, W]`, masks `[1, H, W]` or `[H, W]` (0/1), probs the same shape as masks
    (sigmoid outputs). In the error column, red = false positive, blue = false negative.
    """
    n = len(images)
    fig = _figure(11, 2.9 * n)
    axes = fig.subplots(n, 4, squeeze=False)
    for i in range(n):
        mask = np.asarray(masks[i]).squeeze()
        prob = np.asarray(probs[i]).squeeze()
        pred = prob >= threshold
        _show_image(axes[i, 0], images[i])
        axes[i, 1].imshow(mask, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[i, 2].imshow(prob, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        err = np.zeros((*mask.shape, 3), np.float32)
        err[pred & (mask < 0.5)] = (1, 0, 0)
        err[~pred & (mask >= 0.5)] = (0, 0.4, 1)
        axes[i, 3].imshow(err, interpolation="nearest")
        for j, name in enumerate(("image", "mask", "prediction (prob.)", "errors: FP red, FN blue")):
            axes[i, j].set_title(name if titles is None or j else f"{titles[i]}", fontsize=8)
            axes[i, j].axis("off")
    fig.tight_layout()
    return _save(fig, path)
