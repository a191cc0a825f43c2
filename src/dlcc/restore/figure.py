"""The restoration figure: one row per example, one column per method, the same crop of each.

Columns run degraded input -> classical baselines -> network -> clean; each title gives the
method and the PSNR of that crop (the crop's, not the whole image's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcc.restore.quality import psnr


def plot_restorations(examples: list[dict[str, np.ndarray]], path: str | Path, crop: int = 128,
                      title: str = "") -> Path:
    """examples: [{method: image `[H, W]` in [0, 1], ..., "clean": image}] (dict order = columns);
    shows the central `crop`×`crop` window of each. Returns the PNG path."""
    from matplotlib.figure import Figure

    columns = list(examples[0])
    fig = Figure(figsize=(1.9 * len(columns), 2.05 * len(examples) + 0.3))
    axes = np.atleast_2d(fig.subplots(len(examples), len(columns), squeeze=False))
    for row, example in zip(axes, examples):
        h, w = example["clean"].shape
        size = min(crop, h, w)
        top, left = (h - size) // 2, (w - size) // 2
        window = (slice(top, top + size), slice(left, left + size))
        for ax, name in zip(row, columns):
            image = example[name][window]
            ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            label = name if name == "clean" else f"{name}\n{psnr(example['clean'][window], image):.2f} dB"
            ax.set_title(label, fontsize=8)
            ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
