"""Depthwise-separable convolutions (MobileNet, Howard et al. 2017) as used in the course's A3.

A k×k convolution from `cin` to `cout` channels has `cin·cout·k²` weights. The separable
version splits it into a depthwise k×k convolution (`groups=cin`, one filter per input
channel: `cin·k²` weights) and a pointwise 1×1 convolution (`cin·cout` weights), which is
roughly k² times fewer weights and multiply-adds for wide layers.

Shapes: every block maps `[B, cin, H, W]` (float32) to `[B, cout, H/stride, W/stride]`.
"""

from __future__ import annotations

from torch import nn


def separable_conv(cin: int, cout: int, kernel_size: int, stride: int = 1) -> nn.Sequential:
    """Depthwise k×k conv (stride `stride`, 'same' padding) followed by a pointwise 1×1 conv.

    Both convolutions keep their bias, as in the course (1,377,784 parameters for the
    MobileNet variant of `Cifar10SmallCNN` depends on it).
    """
    return nn.Sequential(
        nn.Conv2d(cin, cin, kernel_size, stride, padding=kernel_size // 2, groups=cin),
        nn.Conv2d(cin, cout, kernel_size=1),
    )


class BlockMobileNet(nn.Sequential):
    """(separable conv → BN → ReLU) twice; the first may downsample with `stride=2`.

    Drop-in replacement for `dlcc.models.cnn.Block` with the same input/output shapes.
    """

    def __init__(self, cin: int, cout: int, kernel_size: int = 3, stride: int = 1):
        super().__init__(
            separable_conv(cin, cout, kernel_size, stride), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            separable_conv(cout, cout, kernel_size, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )


def BlockDownSampleMobileNet(cin: int, cout: int, kernel_size: int = 3) -> BlockMobileNet:
    """The course's downsampling MobileNet block: first separable conv has stride 2."""
    return BlockMobileNet(cin, cout, kernel_size, stride=2)
