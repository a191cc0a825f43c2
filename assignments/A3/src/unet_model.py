"""A3 (d): the course's U-Net for binary segmentation (Carvana in 2021; ISBI EM slices here).

    x0 = Conv5×5(C→32)(x)                                   H × W
    d1 = ResBlock(64)(DownSample(32→64)(x0))                H/2
    d2 = ResBlock(128)(DownSample(64→128)(d1))              H/4
    d3 = ResBlock(128)(DownSample(128→128)(d2))             H/8
    u2 = ResBlock(128)(Concatenate(128, 128 → 128)(UpSample(d3), d2))
    u1 = ResBlock(64)(Concatenate(128, 64 → 64)(UpSample(u2), d1))
    u0 = Concatenate(64, 32 → 32)(UpSample(u1), x0)
    logits = Conv3×3(32→1)(u0)                              [B, 1, H, W]

DownSample = BN → ReLU → Conv3×3 stride 2; UpSample = bilinear ×2 with align_corners=True
(no parameters); Concatenate = torch.cat along channels → BN → ReLU → Conv(kx×ky). The
ResBlock is your pre-activation block from resnet_model.py (A3.7 needs A3.4). All convolutions
use "same" padding and keep their bias. The skip connections hand the decoder the encoder's
full-resolution detail that downsampling threw away. Create layers in `__init__` in the order
`forward` applies them (the tests copy weights in order).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from resnet_model import ResBlock


class DownSample(nn.Module):
    """BN → ReLU → Conv(kx×ky, stride 2): `[B, cin, H, W]` → `[B, cout, H/2, W/2]`."""

    def __init__(self, kx: int = 3, ky: int = 3, input_channel: int = 32, output_channel: int = 64):
        super().__init__()
        # === BEGIN SOLUTION A3.6 ===
        self.bn = nn.BatchNorm2d(input_channel)
        self.conv = nn.Conv2d(input_channel, output_channel, (kx, ky), stride=2, padding=(kx // 2, ky // 2))
        # === END SOLUTION ===

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # === BEGIN SOLUTION A3.6 ===
        x = self.conv(torch.relu(self.bn(x)))
        # === END SOLUTION ===
        return x


class UpSample(nn.Module):
    """Bilinear upsampling by 2 with align_corners=True: `[B, C, H, W]` → `[B, C, 2H, 2W]`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # === BEGIN SOLUTION A3.6 ===
        # HINT: F.interpolate
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        # === END SOLUTION ===
        return x


class Concatenate(nn.Module):
    """cat([x1, x2], dim=1) → BN → ReLU → Conv(kx×ky): `[B, c1, H, W]`, `[B, c2, H, W]` → `[B, out, H, W]`."""

    def __init__(self, kx: int = 3, ky: int = 3, input_channel1: int = 64, input_channel2: int = 64,
                 output_channel: int = 64):
        super().__init__()
        # === BEGIN SOLUTION A3.6 ===
        self.bn = nn.BatchNorm2d(input_channel1 + input_channel2)
        self.conv = nn.Conv2d(input_channel1 + input_channel2, output_channel, (kx, ky), padding=(kx // 2, ky // 2))
        # === END SOLUTION ===

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        # === BEGIN SOLUTION A3.6 ===
        x = self.conv(torch.relu(self.bn(torch.cat([x1, x2], dim=1))))
        # === END SOLUTION ===
        return x


class UNet(nn.Module):
    """The U-Net of the module docstring. `H`, `W` are the training size (the network is fully
    convolutional and runs on any size divisible by 8); `C` input channels.

    forward(x [B, C, H, W] float32) -> logits [B, 1, H, W] (apply a sigmoid for probabilities).
    """

    def __init__(self, H: int = 112, W: int = 168, C: int = 3):
        super().__init__()
        self.H, self.W, self.C = H, W, C
        # === BEGIN SOLUTION A3.7 ===
        self.input_conv = nn.Conv2d(C, 32, 5, padding=2)
        self.down1 = DownSample(3, 3, 32, 64)
        self.res_d1 = ResBlock(3, 3, 64)
        self.down2 = DownSample(3, 3, 64, 128)
        self.res_d2 = ResBlock(3, 3, 128)
        self.down3 = DownSample(3, 3, 128, 128)
        self.res_d3 = ResBlock(3, 3, 128)
        self.up = UpSample()
        self.cat2 = Concatenate(3, 3, 128, 128, 128)
        self.res_u2 = ResBlock(3, 3, 128)
        self.cat1 = Concatenate(3, 3, 128, 64, 64)
        self.res_u1 = ResBlock(3, 3, 64)
        self.cat0 = Concatenate(3, 3, 64, 32, 32)
        self.output_conv = nn.Conv2d(32, 1, 3, padding=1)
        # === END SOLUTION ===

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # === BEGIN SOLUTION A3.7 ===
        x0 = self.input_conv(x)
        d1 = self.res_d1(self.down1(x0))
        d2 = self.res_d2(self.down2(d1))
        d3 = self.res_d3(self.down3(d2))
        u2 = self.res_u2(self.cat2(self.up(d3), d2))
        u1 = self.res_u1(self.cat1(self.up(u2), d1))
        u0 = self.cat0(self.up(u1), x0)
        logits = self.output_conv(u0)
        # === END SOLUTION ===
        return logits
