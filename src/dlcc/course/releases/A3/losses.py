"""A3 (d): losses for binary segmentation. The network outputs logits `[B, 1, H, W]`; the
masks are `[B, 1, H, W]` float32 with 1 = foreground, 0 = background.

The course trained its U-Net with binary cross-entropy alone (`LossBinarySegmentation`,
given). BCE counts every pixel the same, so a small foreground is swamped by background; the
soft Dice loss measures the overlap instead. Their sum, BCE + Dice, is the usual compromise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LossBinarySegmentation:
    """The course's loss: BCE of sigmoid(scores) against the masks (given)."""

    def __init__(self):
        self.bce = nn.BCELoss()

    def __call__(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.bce(torch.sigmoid(scores), y)


def soft_dice(probs: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """Soft Dice coefficient of each sample: `(2 Σ p·t + smooth) / (Σ p + Σ t + smooth)`, the
    sums running over every dimension but the first.

    probs: `[B, ...]` probabilities in [0, 1]; target: the same shape, 0/1.
    Returns `[B]` (1 = perfect overlap; differentiable, unlike the thresholded Dice).
    """
    # TODO (A3.8): your code here
    # HINT: flatten each sample with .flatten(1), then sum over dim=1
    raise NotImplementedError("A3.8: this part of soft_dice() is not implemented yet")
    return dice


class BCEDiceLoss:
    """`bce_weight · BCE(logits, target) + dice_weight · mean over the batch of (1 − soft Dice)`,
    with the soft Dice of `sigmoid(logits)`; BCE from logits (F.binary_cross_entropy_with_logits,
    which is exact where the sigmoid saturates)."""

    def __init__(self, bce_weight: float = 1.0, dice_weight: float = 1.0, smooth: float = 1.0):
        self.bce_weight, self.dice_weight, self.smooth = bce_weight, dice_weight, smooth

    def __call__(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # TODO (A3.8): your code here
        raise NotImplementedError("A3.8: this part of __call__() is not implemented yet")
        return loss
