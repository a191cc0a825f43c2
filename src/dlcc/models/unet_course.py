"""The course's U-Net (2021 A3 part d, Carvana; 1,712,833 parameters with C=3).

Layers (`[B, C, H, W]` float32 → logits `[B, 1, H, W]`; H and W divisible by 8):

    x0 = Conv5×5(C→32)                                 H
    d1 = Res(Down(32→64)(x0))                          H/2
    d2 = Res(Down(64→128)(d1))                         H/4
    d3 = Res(Down(128→128)(d2))                        H/8
    u2 = Res(Cat(Up(d3), d2 → 128))                    H/4
    u1 = Res(Cat(Up(u2), d1 → 64))                     H/2
    u0 = Cat(Up(u1), x0 → 32)                          H
    logits = Conv3×3(32→1)(u0)

Down = BN→ReLU→Conv3×3 stride 2; Res = pre-activation residual block; Up = bilinear ×2
(`align_corners=True`); Cat = concatenate channels → BN → ReLU → Conv3×3. The network is fully
convolutional, so it runs at any size divisible by 8 (the course also ran it at 320×480).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.errors import InputError
from dlcc.models.resnet import ResBlock, bn_relu_conv


class UpSample(nn.Module):
    """Bilinear ×2 upsampling, `[B, C, H, W]` → `[B, C, 2H, 2W]` (no parameters)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


class Concatenate(nn.Module):
    """`cat([a, b], dim=1)` → BN → ReLU → Conv3×3: `[B, c1, H, W]`, `[B, c2, H, W]` → `[B, out, H, W]`."""

    def __init__(self, c1: int, c2: int, out: int, kernel_size: int = 3):
        super().__init__()
        self.fuse = bn_relu_conv(c1 + c2, out, kernel_size)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return self.fuse(torch.cat([a, b], dim=1))


class CourseUNet(nn.Module):
    """The course's U-Net (layers in the module docstring); `C` input channels, 1 output logit map."""

    def __init__(self, H: int = 112, W: int = 168, C: int = 3):
        super().__init__()
        self.H, self.W = H, W  # the course's signature; only used for the default summary size
        self.input_conv = nn.Conv2d(C, 32, 5, 1, 2)
        self.down1 = nn.Sequential(bn_relu_conv(32, 64, 3, stride=2), ResBlock(64))
        self.down2 = nn.Sequential(bn_relu_conv(64, 128, 3, stride=2), ResBlock(128))
        self.down3 = nn.Sequential(bn_relu_conv(128, 128, 3, stride=2), ResBlock(128))
        self.up = UpSample()
        self.cat2 = Concatenate(128, 128, 128)
        self.res2 = ResBlock(128)
        self.cat1 = Concatenate(128, 64, 64)
        self.res1 = ResBlock(64)
        self.cat0 = Concatenate(64, 32, 32)
        self.output_conv = nn.Conv2d(32, 1, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-2] % 8 or x.shape[-1] % 8:
            raise InputError(f"CourseUNet needs height and width divisible by 8, got {tuple(x.shape[-2:])}",
                             fix="pad first: dlcc.data.segmentation.pad_to_multiple(x, 8), or use the "
                                 "configurable UNet, which pads for you")
        x0 = self.input_conv(x)
        d1 = self.down1(x0)
        d2 = self.down2(d1)
        d3 = self.down3(d2)
        u2 = self.res2(self.cat2(self.up(d3), d2))
        u1 = self.res1(self.cat1(self.up(u2), d1))
        u0 = self.cat0(self.up(u1), x0)
        return self.output_conv(u0)
