"""Backbones: the feature extractors that transfer learning moves from one task to another.

A backbone maps images to one feature vector per image and names its stages, input first:

    backbone = build_backbone("fastnet", widths=[32, 64, 128])
    features = backbone(images)          # [B, 3, 32, 32] -> [B, backbone.out_features]
    backbone.stages()                    # [("whiten", ...), ("groups.0", ...), ...] input to output

`stages()` is what discriminative learning rates use (earlier stages learn more general
features, so fine-tuning moves them less; `dlcc.transfer.model.discriminative_groups`).

`fastnet` is the body of `dlcc.models.CifarFastNet` (whitening conv, three conv groups, global
max-pool) with the same parameter names, so a trained CifarFastNet's weights minus its `head.*`
are a fastnet backbone's weights. It trains fastest of the zoo on a CPU, which is why the
transfer recipes use it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.errors import ConfigError
from dlcc.models.fastnet import ConvGroup


class FastNetBackbone(nn.Module):
    """CifarFastNet without its classifier: `[B, C, H, W]` -> features `[B, widths[2]]`.

    whiten Conv2×2 (frozen weights, trainable bias; see `dlcc.models.whiten_init_`) -> GELU ->
    three `ConvGroup`s (each halves H and W) -> global max-pool.
    """

    def __init__(self, widths: tuple[int, int, int] | list[int] = (32, 64, 128), in_channels: int = 3,
                 bn_momentum: float = 0.4, whiten_kernel: int = 2):
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) != 3 or min(widths) < 1:
            raise ConfigError(f"the fastnet backbone needs three positive widths, got {list(widths)}",
                              fix="e.g. widths=[32, 64, 128]")
        whiten_width = 2 * in_channels * whiten_kernel**2
        self.whiten = nn.Conv2d(in_channels, whiten_width, whiten_kernel, padding=0, bias=True)
        self.whiten.weight.requires_grad_(False)
        self.groups = nn.Sequential(ConvGroup(whiten_width, widths[0], bn_momentum),
                                    ConvGroup(widths[0], widths[1], bn_momentum),
                                    ConvGroup(widths[1], widths[2], bn_momentum))
        self.out_features = widths[2]

    def forward(self, x: Tensor) -> Tensor:
        x = self.groups(F.gelu(self.whiten(x)))
        return F.adaptive_max_pool2d(x, 1).flatten(1)   # by index: see CifarFastNet.forward

    def stages(self) -> list[tuple[str, nn.Module]]:
        """(name, module) from the input to the output."""
        return [("whiten", self.whiten), *((f"groups.{i}", g) for i, g in enumerate(self.groups))]


# name -> builder(**config); the config is saved with the weights (dlcc.transfer.checkpoint)
ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {"fastnet": FastNetBackbone}


def build_backbone(architecture: str, **config) -> nn.Module:
    """A fresh backbone of a known architecture (see `ARCHITECTURES`)."""
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"unknown backbone architecture {architecture!r}",
                          fix=f"use one of: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[architecture](**config)


def backbone_stages(backbone: nn.Module) -> list[tuple[str, nn.Module]]:
    """The backbone's stages, input first: its `stages()`, else its direct children."""
    if hasattr(backbone, "stages"):
        return list(backbone.stages())
    return list(backbone.named_children())
