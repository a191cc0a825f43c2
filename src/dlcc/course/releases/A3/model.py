"""A3 (a) and (b): the course's small CNN for CIFAR-10 and its MobileNet variant.

    Block(5,3→32) → Down(5,32→64) → Block(3,64) → Down(3,64→128) → Block(3,128) →
    Down(3,128→256) → Block(3,256) → flatten(256·H/8·W/8) → FC 256 → BN1d → ReLU → FC 10

A Block is Conv → BN → ReLU → Conv → BN → ReLU with "same" padding (k // 2); the downsampling
block's first conv has stride 2. The MobileNet variant replaces every k×k convolution by a
depthwise k×k convolution (`groups=` input channels) followed by a pointwise 1×1 convolution.

Create the layers in `__init__` in the order `forward` applies them: the tests copy weights
into your model layer by layer, in that order. Keep the convolutions' biases (PyTorch's
default); the parameter counts in the tests include them.
"""

from __future__ import annotations

import torch
from torch import nn


def init_weights(model: nn.Module) -> None:
    """The course's initialisation: Kaiming-normal convolutions (fan_out, ReLU), zero conv
    biases; Xavier-normal fully connected layers, zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)


class Block(nn.Module):
    """Conv(kx×ky, stride, padding (kx//2, ky//2)) → BN → ReLU → Conv(kx×ky, stride 1) → BN → ReLU.

    [B, input_channel, H, W] → [B, output_channel, H/stride, W/stride].
    """

    def __init__(self, kx: int = 3, ky: int = 3, input_channel: int = 3, output_channel: int = 16,
                 stride: int = 1):
        super().__init__()
        # TODO (A3.1): your code here
        # HINT: nn.Conv2d(in, out, kernel_size=(kx, ky), stride=..., padding=(kx // 2, ky // 2)), nn.BatchNorm2d(out)
        raise NotImplementedError("A3.1: this part of __init__() is not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A3.1): your code here
        raise NotImplementedError("A3.1: this part of forward() is not implemented yet")
        return x


class BlockDownSample(Block):
    """A Block whose first convolution has stride 2 (halves H and W)."""

    def __init__(self, kx: int = 3, ky: int = 3, input_channel: int = 3, output_channel: int = 16):
        super().__init__(kx, ky, input_channel, output_channel, stride=2)


class BlockMobileNet(nn.Module):
    """(depthwise Conv(kx×ky, stride, groups=channels in) → pointwise Conv 1×1 → BN → ReLU), twice;
    the second depthwise conv has stride 1.

    [B, input_channel, H, W] → [B, output_channel, H/stride, W/stride].
    """

    def __init__(self, kx: int = 3, ky: int = 3, input_channel: int = 3, output_channel: int = 16,
                 stride: int = 1):
        super().__init__()
        # TODO (A3.3): your code here
        # HINT: a depthwise conv maps c channels to c channels with groups=c
        raise NotImplementedError("A3.3: this part of __init__() is not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A3.3): your code here
        raise NotImplementedError("A3.3: this part of forward() is not implemented yet")
        return x


class BlockDownSampleMobileNet(BlockMobileNet):
    """A BlockMobileNet whose first depthwise convolution has stride 2."""

    def __init__(self, kx: int = 3, ky: int = 3, input_channel: int = 3, output_channel: int = 16):
        super().__init__(kx, ky, input_channel, output_channel, stride=2)


class Cifar10SmallCNN(nn.Module):
    """The small CNN (layers in the module docstring).

    Args:
        H, W, C: input height, width, channels (H and W divisible by 8).
        use_mobile_net_conv: build every block from BlockMobileNet / BlockDownSampleMobileNet.

    forward(x [B, C, H, W] float32) -> logits [B, 10].
    """

    def __init__(self, H: int = 32, W: int = 32, C: int = 3, use_mobile_net_conv: bool = False):
        super().__init__()
        block = BlockMobileNet if use_mobile_net_conv else Block
        down = BlockDownSampleMobileNet if use_mobile_net_conv else BlockDownSample
        # TODO (A3.2): your code here
        # HINT: self.features = nn.Sequential(block(5, 5, C, 32), down(5, 5, 32, 64), ...)
        raise NotImplementedError("A3.2: this part of __init__() is not implemented yet")
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A3.2): your code here
        raise NotImplementedError("A3.2: this part of forward() is not implemented yet")
        return x
