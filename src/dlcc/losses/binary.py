"""Losses for binary segmentation (and binary classification), all computed from logits.

Shapes: `logits` and `target` are the same shape, e.g. `[B, 1, H, W]`; `target` holds 0/1
(float, or soft labels in [0, 1]). Every loss returns a scalar (mean) unless
`reduction="none"`. Working from logits (not probabilities) keeps the log terms finite:
`log(sigmoid(x))` is computed as `-softplus(-x)`.

- BCE: the per-pixel log loss; every pixel counts the same, so a small foreground is swamped.
- soft Dice: `1 - (2·Σ p·t + s) / (Σ p + Σ t + s)` per image with `p = sigmoid(logits)`;
  measures overlap, so it is insensitive to how much background there is.
- BCE + Dice: the usual U-Net compromise — BCE's smooth per-pixel gradients plus Dice's
  focus on the overlap.
- focal (Lin et al. 2017): BCE scaled by `(1 - p_t)^gamma`, down-weighting pixels already
  classified well; `gamma=0`, `alpha=None` is exactly BCE.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.errors import ConfigError, InputError


def _check(logits: Tensor, target: Tensor) -> Tensor:
    if logits.shape != target.shape:
        raise InputError(f"logits {tuple(logits.shape)} and target {tuple(target.shape)} have different shapes",
                         fix="give the target the logits' shape, e.g. masks as [B, 1, H, W] (mask.unsqueeze(1))")
    return target.to(logits.dtype)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ConfigError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}", fix="use reduction='mean'")


def bce_with_logits(logits: Tensor, target: Tensor, pos_weight: float | Tensor | None = None,
                    reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on logits; `pos_weight` > 1 up-weights the foreground class."""
    target = _check(logits, target)
    if pos_weight is not None:
        pos_weight = torch.as_tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    loss = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction="none")
    return _reduce(loss, reduction)


def soft_dice_loss(logits: Tensor, target: Tensor, smooth: float = 1.0, reduction: str = "mean") -> Tensor:
    """`1 - soft Dice` per sample (sums over all dims but the first), `[B]` before reduction.

    `smooth` keeps the ratio defined for empty masks and empty predictions (loss → 0 when
    both are empty) and softens the gradient on tiny objects.
    """
    target = _check(logits, target)
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    dice = (2 * (p * t).sum(1) + smooth) / (p.sum(1) + t.sum(1) + smooth)
    return _reduce(1 - dice, reduction)


def bce_dice_loss(logits: Tensor, target: Tensor, bce_weight: float = 1.0, dice_weight: float = 1.0,
                  smooth: float = 1.0) -> Tensor:
    """`bce_weight · BCE + dice_weight · soft Dice loss` (scalar)."""
    return (bce_weight * bce_with_logits(logits, target)
            + dice_weight * soft_dice_loss(logits, target, smooth))


def binary_focal_loss(logits: Tensor, target: Tensor, gamma: float = 2.0, alpha: float | None = 0.25,
                      reduction: str = "mean") -> Tensor:
    """Focal loss `-alpha_t (1 - p_t)^gamma log(p_t)` with `p_t` the probability of the true class.

    `alpha` weights the foreground (`1 - alpha` the background); None disables the weighting.
    """
    if gamma < 0:
        raise ConfigError(f"focal loss gamma must be >= 0, got {gamma}", fix="use gamma=2.0")
    target = _check(logits, target)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p = torch.sigmoid(logits)
    p_t = p * target + (1 - p) * (1 - target)  # also right for soft targets
    loss = (1 - p_t).pow(gamma) * bce
    if alpha is not None:
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return _reduce(loss, reduction)


class BCEWithLogitsLoss(nn.Module):
    """Module form of `bce_with_logits`; shape-checked (no silent broadcasting)."""

    def __init__(self, pos_weight: float | None = None):
        super().__init__()
        self.pos_weight = pos_weight

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return bce_with_logits(logits, target, self.pos_weight)


class SoftDiceLoss(nn.Module):
    """Module form of `soft_dice_loss` (mean over the batch)."""

    def __init__(self, smooth: float = 1.0):
        super().__init__()
        self.smooth = smooth

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return soft_dice_loss(logits, target, self.smooth)


class BCEDiceLoss(nn.Module):
    """Module form of `bce_dice_loss`."""

    def __init__(self, bce_weight: float = 1.0, dice_weight: float = 1.0, smooth: float = 1.0):
        super().__init__()
        self.bce_weight, self.dice_weight, self.smooth = bce_weight, dice_weight, smooth

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return bce_dice_loss(logits, target, self.bce_weight, self.dice_weight, self.smooth)


class FocalLoss(nn.Module):
    """Module form of `binary_focal_loss` (mean)."""

    def __init__(self, gamma: float = 2.0, alpha: float | None = 0.25):
        super().__init__()
        self.gamma, self.alpha = gamma, alpha

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return binary_focal_loss(logits, target, self.gamma, self.alpha)
