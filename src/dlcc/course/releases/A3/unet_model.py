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
        # TODO (A3.6): your code here
        raise NotImplementedError("A3.6: this part of __init__() is not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A3.6): your code here
        raise NotImplementedError("A3.6: this part of forward() is not implemented yet")
        return x


class UpSample(nn.Module):
    """Bilinear upsampling by 2 with align_corners=True: `[B, C, H, W]` → `[B, C, 2H, 2W]`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A3.6): your code here
        # HINT: F.interpolate
        raise NotImplementedError("A3.6: this part of forward() is not implemented yet")
        return x


class Concatenate(nn.Module):
    """cat([x1, x2], dim=1) → BN → ReLU → Conv(kx×ky): `[B, c1, H, W]`, `[B, c2, H, W]` → `[B, out, H, W]`."""

    def __init__(self, kx: int = 3, ky: int = 3, input_channel1: int = 64, input_channel2: int = 64,
                 output_channel: int = 64):
        super().__init__()
        # TODO (A3.6): your code here
        raise NotImplementedError("A3.6: this part of __init__() is not implemented yet")

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        # TODO (A3.6): your code here
        raise NotImplementedError("A3.6: this part of forward() is not implemented yet")
        return x


class UNet(nn.Module):
    """The U-Net of the module docstring. `H`, `W` are the training size (the network is fully
    convolutional and runs on any size divisible by 8); `C` input channels.

    forward(x [B, C, H, W] float32) -> logits [B, 1, H, W] (apply a sigmoid for probabilities).
    """

    def __init__(self, H: int = 112, W: int = 168, C: int = 3):
        super().__init__()
        self.H, self.W, self.C = H, W, C
        # TODO (A3.7): your code here
        raise NotImplementedError("A3.7: this part of __init__() is not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A3.7): your code here
        raise NotImplementedError("A3.7: this part of forward() is not implemented yet")
        return logits
