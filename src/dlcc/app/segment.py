"""The microscopy page's computation: pixels -> the U-Net's mask and an overlay.

    result = segment_image(model, pixels)        # pixels [H, W] or [H, W, 3] as decoded
    result.mask                                  # [H, W] bool at the image's own size
    result.overlay                               # [H, W, 3] uint8: mask in red, outline in yellow
    result.foreground, result.threshold          # fraction of foreground pixels, the run's threshold

Exactly `dlcc predict`'s computation (`dlcc.predict.segment`): the recipe's normalisation,
tiles of the run's `eval.tile` pixels stitched with overlap, and the run's threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class SegmentResult:
    mask: np.ndarray          # [H, W] bool
    overlay: np.ndarray       # [H, W, 3] uint8
    foreground: float         # fraction of pixels marked
    threshold: float


class _Exported(torch.nn.Module):
    """An export (numpy in, numpy out) behind the nn.Module interface the tiling code calls."""

    def __init__(self, exported):
        super().__init__()
        self.exported = exported

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.exported(x.detach().cpu().numpy())))


def segment_image(model, pixels: np.ndarray) -> SegmentResult:
    """The mask of one decoded image (see the module docstring)."""
    from dlcc.predict.segment import normalisation, overlay, prepare_image
    from dlcc.recipes._segment import predict_probs

    mode, channels = normalisation(model)
    ev = model.config.get("eval") or {}
    tile, overlap, tta = int(ev.get("tile", 512)), int(ev.get("overlap", 32)), bool(ev.get("tta", False))
    threshold = float(model.artifacts.get("threshold", ev.get("threshold", 0.5)))
    net = model.module if model.is_torch else _Exported(model.exported)
    with torch.no_grad():
        probs = predict_probs(net, prepare_image(pixels, mode, channels), tile, min(overlap, tile - 1), tta)
    mask = (probs[0] >= threshold).numpy()
    return SegmentResult(mask, overlay(pixels, mask), float(mask.mean()), threshold)
