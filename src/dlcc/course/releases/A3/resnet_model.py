"""A3 (c): the course's small pre-activation ResNet for CIFAR-10.

A residual block computes x + F(x): the block only learns a correction to the identity, and
the gradient reaches earlier layers through the "+ x" path unchanged. "Pre-activation"
(He et al. 2016, "Identity mappings in deep residual networks") puts BN and ReLU *before*
each convolution, so the skip path carries x untouched:

    ResBlock:            x → BN → ReLU → Conv → BN → ReLU → Conv → (+ x)
    ResBlockDownSample:  x1 = (BN → ReLU → Conv stride 2)(x);  out = x1 + (BN → ReLU → Conv)(x1)

    Cifar10SmallResNet: Conv5×5(C→32) → Res(32) ×2 → ResDown(32→64) → Res(64) ×2 →
        ResDown(64→128) → Res(128) ×2 → ResDown(128→256) → BN → ReLU → Conv1×1(256→512) →
        BN → ReLU → Conv(H/8 × W/8, 512→512, no padding; [B, 512, 1, 1]) → flatten →
        FC 256 → BN1d → ReLU → FC 10

All convolutions keep their bias and use "same" padding (k // 2) except the last one. Create
layers in `__init__` in the order `forward` applies them (the tests copy weights in order).
"""

from __future__ import annotations

import torch
from torch import nn

from model import init_weights


class ResBlock(nn.Module):
    """Pre-activation residual block with two kx×ky convolutions, `[B, C, H, W]` → `[B, C, H, W]`."""

    def __init__(self, kx: int = 3, ky: int = 3, channels: int = 16):
        super().__init__()
        # TODO (A3.4): your code here
        # HINT: BatchNorm2d before each Conv2d (pre-activation); padding=(kx // 2, ky // 2)
        raise NotImplementedError("A3.4: this part of __init__() is not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A3.4): your code here
        # HINT: do not change x in place (no inplace ReLU on x): the skip path needs it
        raise NotImplementedError("A3.4: this part of forward() is not implemented yet")
        return out


class ResBlockDownSample(nn.Module):
    """`x1 = (BN → ReLU → Conv stride 2)(x)`, returns `x1 + (BN → ReLU → Conv)(x1)`.

    `[B, input_channel, H, W]` → `[B, output_channel, H/2, W/2]`.
    """

    def __init__(self, kx: int = 3, ky: int = 3, input_channel: int = 16, output_channel: int = 32):
        super().__init__()
        # TODO (A3.4): your code here
        raise NotImplementedError("A3.4: this part of __init__() is not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A3.4): your code here
        raise NotImplementedError("A3.4: this part of forward() is not implemented yet")
        return out


class Cifar10SmallResNet(nn.Module):
    """The small ResNet (layers in the module docstring). H and W divisible by 8.

    forward(x [B, C, H, W] float32) -> logits [B, 10].
    """

    def __init__(self, H: int = 32, W: int = 32, C: int = 3):
        super().__init__()
        # TODO (A3.5): your code here
        # HINT: the last convolution's kernel covers the whole H/8 × W/8 map: kernel_size=(H // 8, W // 8)
        raise NotImplementedError("A3.5: this part of __init__() is not implemented yet")
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A3.5): your code here
        raise NotImplementedError("A3.5: this part of forward() is not implemented yet")
        return x
