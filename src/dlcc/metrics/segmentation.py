"""Overlap metrics for binary segmentation: Dice and IoU at a threshold, per image and mean.

Arguments follow the losses: `(pred, target)`. `pred` holds probabilities (or logits with
`from_logits=True`), `target` holds 0/1; both `[B, ...]` with the same shape (e.g.
`[B, 1, H, W]`), as torch tensors or numpy arrays. A pixel is foreground when
`pred >= threshold` (for logits: `sigmoid(pred) >= threshold`) and when `target >= 0.5`.

    Dice = 2|P∩T| / (|P| + |T|)        IoU = |P∩T| / |P∪T|        (Dice = 2·IoU / (1 + IoU))

Empty masks: when an image has no foreground in both prediction and target, both metrics
are `empty` (default 1.0: "nothing to find, nothing found" is a perfect answer); when only one
of them is empty the score is 0. Pass `empty=float("nan")` to leave such images out of the
mean instead (`mean_*` ignore NaN). Unlike the course's `dice_coeff`, which adds 1e-4 to
numerator and denominator, these are exact (the course's version returns 2 for empty-empty).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from dlcc.errors import InputError


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))


def binarize(pred, threshold: float = 0.5, from_logits: bool = False) -> Tensor:
    """Boolean foreground mask of `pred` (same shape)."""
    p = _as_tensor(pred).detach()
    if from_logits:
        if not 0.0 < threshold < 1.0:
            raise InputError(f"threshold must be in (0, 1) with logits, got {threshold}", fix="use threshold=0.5")
        return p.double() >= math.log(threshold / (1 - threshold))  # sigmoid(x) >= t  <=>  x >= logit(t)
    return p >= threshold


def _counts(pred, target, threshold: float, from_logits: bool) -> tuple[Tensor, Tensor, Tensor]:
    p, t = _as_tensor(pred), _as_tensor(target)
    if p.shape != t.shape:
        raise InputError(f"prediction {tuple(p.shape)} and target {tuple(t.shape)} have different shapes",
                         fix="compare arrays of the same shape, e.g. both [B, 1, H, W]")
    if p.ndim < 2:
        raise InputError(f"expected a batch [B, ...] of masks, got shape {tuple(p.shape)}",
                         fix="add a batch dimension, e.g. pred[None]")
    pb = binarize(p, threshold, from_logits).flatten(1)
    tb = (t.detach() >= 0.5).flatten(1)
    inter = (pb & tb).sum(1).double()
    return inter, pb.sum(1).double(), tb.sum(1).double()


def dice_per_image(pred, target, threshold: float = 0.5, from_logits: bool = False,
                   empty: float = 1.0) -> Tensor:
    """Dice of each image, `[B]` float64 (see the module docstring for empty masks)."""
    inter, sp, st = _counts(pred, target, threshold, from_logits)
    denom = sp + st
    out = torch.where(denom > 0, 2 * inter / denom.clamp_min(1), torch.full_like(denom, empty))
    return out


def iou_per_image(pred, target, threshold: float = 0.5, from_logits: bool = False,
                  empty: float = 1.0) -> Tensor:
    """Intersection over union (Jaccard) of each image, `[B]` float64."""
    inter, sp, st = _counts(pred, target, threshold, from_logits)
    union = sp + st - inter
    return torch.where(union > 0, inter / union.clamp_min(1), torch.full_like(union, empty))


def _nanmean(x: Tensor) -> float:
    return float(x.nanmean()) if x.numel() and not torch.isnan(x).all() else float("nan")


def mean_dice(pred, target, threshold: float = 0.5, from_logits: bool = False, empty: float = 1.0) -> float:
    """Mean over images of the per-image Dice (NaN entries skipped)."""
    return _nanmean(dice_per_image(pred, target, threshold, from_logits, empty))


def mean_iou(pred, target, threshold: float = 0.5, from_logits: bool = False, empty: float = 1.0) -> float:
    """Mean over images of the per-image IoU (NaN entries skipped)."""
    return _nanmean(iou_per_image(pred, target, threshold, from_logits, empty))
