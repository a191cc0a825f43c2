"""Overlays of attribution maps on the image they explain (matplotlib object API, no pyplot).

Maps that only say "how much" (saliency, SmoothGrad, Grad-CAM) are drawn in one colour scale
from 0 to their 99th percentile; signed maps (integrated gradients, occlusion: evidence for
the target in red, against it in blue) symmetric around 0. Each map is scaled on its own:
the figure compares where methods look, not their units.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import Tensor

SIGNED = {"integrated_gradients", "occlusion"}


def _image(x: np.ndarray) -> np.ndarray:
    return x[0] if x.shape[0] == 1 else np.clip(x.transpose(1, 2, 0), 0, 1)


def plot_overlays(image: Tensor, maps: dict[str, Tensor], path: str | Path, title: str = "",
                  region: Tensor | None = None) -> Path:
    """`image [C, H, W]` in [0, 1] and `{method: [H, W]}` maps → one PNG row: the image, then
    each map over a grey copy of it. `region` (bool `[H, W]`) is outlined where given."""
    from matplotlib.figure import Figure

    img = _image(image.detach().cpu().numpy())
    grey = img if img.ndim == 2 else img.mean(2)
    fig = Figure(figsize=(2.6 * (len(maps) + 1), 3.0))
    axes = fig.subplots(1, len(maps) + 1, squeeze=False)[0]
    axes[0].imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    axes[0].set_title("input", fontsize=9)
    for ax, (name, value) in zip(axes[1:], maps.items()):
        m = value.detach().cpu().double().numpy()
        ax.imshow(grey, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        if name in SIGNED:
            top = float(np.percentile(np.abs(m), 99)) or 1.0
            ax.imshow(m, cmap="RdBu_r", vmin=-top, vmax=top, alpha=0.6, interpolation="bilinear")
        else:
            top = float(np.percentile(m, 99)) or 1.0
            ax.imshow(np.clip(m / top, 0, 1), cmap="inferno", vmin=0, vmax=1, alpha=0.65, interpolation="bilinear")
        ax.set_title(name.replace("_", " "), fontsize=9)
    for ax in axes:
        if region is not None:
            ax.contour(region.cpu().numpy().astype(float), levels=[0.5], colors="lime", linewidths=1)
        ax.set_xticks([]), ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
