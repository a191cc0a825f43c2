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
        # === BEGIN SOLUTION A3.1 ===
        # HINT: nn.Conv2d(in, out, kernel_size=(kx, ky), stride=..., padding=(kx // 2, ky // 2)), nn.BatchNorm2d(out)
        self.conv1 = nn.Conv2d(input_channel, output_channel, (kx, ky), stride=stride, padding=(kx // 2, ky // 2))
        self.bn1 = nn.BatchNorm2d(output_channel)
        self.conv2 = nn.Conv2d(output_channel, output_channel, (kx, ky), stride=1, padding=(kx // 2, ky // 2))
        self.bn2 = nn.BatchNorm2d(output_channel)
        # === END SOLUTION ===

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # === BEGIN SOLUTION A3.1 ===
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        # === END SOLUTION ===
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
        # === BEGIN SOLUTION A3.3 ===
        # HINT: a depthwise conv maps c channels to c channels with groups=c
        pad = (kx // 2, ky // 2)
        self.depthwise1 = nn.Conv2d(input_channel, input_channel, (kx, ky), stride=stride, padding=pad,
                                    groups=input_channel)
        self.pointwise1 = nn.Conv2d(input_channel, output_channel, kernel_size=1)
        self.bn1 = nn.BatchNorm2d(output_channel)
        self.depthwise2 = nn.Conv2d(output_channel, output_channel, (kx, ky), stride=1, padding=pad,
                                    groups=output_channel)
        self.pointwise2 = nn.Conv2d(output_channel, output_channel, kernel_size=1)
        self.bn2 = nn.BatchNorm2d(output_channel)
        # === END SOLUTION ===

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # === BEGIN SOLUTION A3.3 ===
        x = torch.relu(self.bn1(self.pointwise1(self.depthwise1(x))))
        x = torch.relu(self.bn2(self.pointwise2(self.depthwise2(x))))
        # === END SOLUTION ===
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
        # === BEGIN SOLUTION A3.2 ===
        # HINT: self.features = nn.Sequential(block(5, 5, C, 32), down(5, 5, 32, 64), ...)
        self.features = nn.Sequential(
            block(5, 5, C, 32), down(5, 5, 32, 64),
            block(3, 3, 64, 64), down(3, 3, 64, 128),
            block(3, 3, 128, 128), down(3, 3, 128, 256),
            block(3, 3, 256, 256),
        )
        self.fc1 = nn.Linear(256 * (H // 8) * (W // 8), 256)
        self.bn = nn.BatchNorm1d(256)
        self.fc2 = nn.Linear(256, 10)
        # === END SOLUTION ===
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # === BEGIN SOLUTION A3.2 ===
        x = torch.flatten(self.features(x), 1)
        x = self.fc2(torch.relu(self.bn(self.fc1(x))))
        # === END SOLUTION ===
        return x
