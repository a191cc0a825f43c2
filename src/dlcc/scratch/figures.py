"""Figures of the NumPy engine's internals: attention maps, one panel per head.

Object-API matplotlib (no pyplot): no display needed, no global state; returns the PNG path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dlcc.errors import InputError


def plot_attention_maps(weights: np.ndarray, path: str | Path, *, queries: Sequence[str] | None = None,
                        keys: Sequence[str] | None = None, sample: int = 0, title: str = "") -> Path:
    """Draw every head's attention weights as a heat map (rows: queries, columns: keys).

    Args:
        weights: (H, Lq, Lk) or (B, H, Lq, Lk), e.g. `MultiheadAttention.attn_weights`; with a
            batch, `sample` picks which sequence to draw.
        queries, keys: tick labels (tokens), Lq and Lk of them; default positions 0, 1, ...
        title: figure title. Masked keys show as 0 (white), so a causal mask is a triangle.

    Returns:
        The PNG path (parent folders are created).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 4:
        if not 0 <= sample < w.shape[0]:
            raise InputError(f"plot_attention_maps: sample {sample} is outside the batch of {w.shape[0]}")
        w = w[sample]
    if w.ndim != 3:
        raise InputError(f"plot_attention_maps: weights have shape {w.shape}, expected (H, Lq, Lk) "
                         "or (B, H, Lq, Lk)")
    heads, lq, lk = w.shape
    for name, labels, n in (("queries", queries, lq), ("keys", keys, lk)):
        if labels is not None and len(labels) != n:
            raise InputError(f"plot_attention_maps: {len(labels)} {name} labels for {n} positions")
    from matplotlib.figure import Figure

    cols = min(heads, 4)
    rows = -(-heads // cols)
    cell = max(1.6, 0.28 * max(lq, lk))
    # constrained layout places the shared colour bar (tight_layout cannot)
    fig = Figure(figsize=(cell * cols + 0.8, cell * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    image = None
    for h in range(rows * cols):
        ax = axes[h // cols, h % cols]
        if h >= heads:
            ax.set_axis_off()
            continue
        image = ax.imshow(w[h], cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_title(f"head {h}", fontsize=8)
        ax.set_xticks(range(lk))
        ax.set_yticks(range(lq))
        ax.set_xticklabels(keys if keys is not None else range(lk), fontsize=6, rotation=90)
        ax.set_yticklabels(queries if queries is not None else range(lq), fontsize=6)
        if h % cols == 0:
            ax.set_ylabel("query", fontsize=7)
        if h // cols == rows - 1:
            ax.set_xlabel("key", fontsize=7)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="attention weight")
    fig.suptitle(title or f"attention weights ({heads} heads)", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
