"""The course's small CIFAR CNN (2021 A3 part a/b) and its building blocks.

`Cifar10SmallCNN(H, W, C)`: Block(5,32) → Down(5,64) → Block(3,64) → Down(3,128) →
Block(3,128) → Down(3,256) → Block(3,256) → flatten(256·H/8·W/8) → FC256 → BN1d → ReLU → FC10.
3,893,290 parameters at 32×32×3; with `use_mobile_net_conv=True` every block becomes
depthwise-separable (1,377,784 parameters). The flatten size depends on H and W, so the
model accepts only the input size it was built for (H and W divisible by 8).

Input `[B, C, H, W]` float32, output logits `[B, num_classes]`.
"""

from __future__ import annotations

from torch import Tensor, nn

from dlcc.errors import ConfigError
from dlcc.models.mobilenet import BlockMobileNet


class Block(nn.Sequential):
    """Conv(k, stride, 'same' pad) → BN → ReLU → Conv(k, 1) → BN → ReLU.

    `[B, cin, H, W]` → `[B, cout, H/stride, W/stride]`. `stride=2` is the course's
    `BlockDownSample`.
    """

    def __init__(self, cin: int, cout: int, kernel_size: int = 3, stride: int = 1):
        pad = kernel_size // 2
        super().__init__(
            nn.Conv2d(cin, cout, kernel_size, stride, pad), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, kernel_size, 1, pad), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )


def BlockDownSample(cin: int, cout: int, kernel_size: int = 3) -> Block:
    """The course's downsampling block: the first conv has stride 2."""
    return Block(cin, cout, kernel_size, stride=2)


def init_course_weights(model: nn.Module) -> None:
    """Course initialisation: Kaiming-normal (fan_out, ReLU) convs, Xavier-normal linears."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)


class Cifar10SmallCNN(nn.Module):
    """The course's small CNN for CIFAR-10 (see module docstring for the exact layers).

    Args:
        H, W, C: input height, width and channels (H and W divisible by 8).
        use_mobile_net_conv: use depthwise-separable blocks (the course's MobileNet variant).
        num_classes: size of the output layer.
    """

    def __init__(self, H: int = 32, W: int = 32, C: int = 3, use_mobile_net_conv: bool = False,
                 num_classes: int = 10):
        super().__init__()
        if H % 8 or W % 8:
            raise ConfigError(f"Cifar10SmallCNN needs H and W divisible by 8, got H={H}, W={W}",
                              fix="build it for an input size divisible by 8, e.g. H=32, W=32")
        block = BlockMobileNet if use_mobile_net_conv else Block
        self.features = nn.Sequential(
            block(C, 32, 5), block(32, 64, 5, stride=2),
            block(64, 64, 3), block(64, 128, 3, stride=2),
            block(128, 128, 3), block(128, 256, 3, stride=2),
            block(256, 256, 3),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(256 * (H // 8) * (W // 8), 256), nn.BatchNorm1d(256), nn.ReLU(inplace=True),
            nn.Linear(256, num_classes),
        )
        init_course_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
