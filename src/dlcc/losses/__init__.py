"""PyTorch losses (from logits) for binary segmentation, plus `get_loss(name)` for recipes.

    from dlcc.losses import get_loss
    loss_fn = get_loss("bce+dice")          # BCEDiceLoss()
    loss = loss_fn(model(images), masks)    # logits and masks both [B, 1, H, W]
"""

from __future__ import annotations

import difflib

from torch import nn

from dlcc.errors import ConfigError
from dlcc.losses.binary import (BCEDiceLoss, BCEWithLogitsLoss, FocalLoss, SoftDiceLoss, bce_dice_loss,
                                bce_with_logits, binary_focal_loss, soft_dice_loss)

LOSSES: dict[str, type[nn.Module]] = {
    "bce": BCEWithLogitsLoss,
    "dice": SoftDiceLoss,
    "bce+dice": BCEDiceLoss,
    "focal": FocalLoss,
}


def get_loss(name: str, **kwargs) -> nn.Module:
    """Loss module by name ("bce", "dice", "bce+dice", "focal"); kwargs go to its constructor."""
    if name not in LOSSES:
        close = difflib.get_close_matches(name, list(LOSSES), n=2, cutoff=0.4)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise ConfigError(f"unknown loss {name!r}", fix=f"{hint}use one of: {', '.join(LOSSES)}")
    try:
        return LOSSES[name](**kwargs)
    except TypeError as exc:
        raise ConfigError(f"bad arguments for loss {name!r}: {exc}", fix="check the loss settings") from None


__all__ = ["BCEDiceLoss", "BCEWithLogitsLoss", "FocalLoss", "LOSSES", "SoftDiceLoss", "bce_dice_loss",
           "bce_with_logits", "binary_focal_loss", "get_loss", "soft_dice_loss"]
