"""Residual networks for 32×32 images: the course's small pre-activation ResNet and ResNet-18.

- `Cifar10SmallResNet(H, W, C)` (2021 A3 part c, 6,405,066 parameters at 32×32×3):
  Conv5×5(32) → Res(32)×2 → ResDown(64) → Res(64)×2 → ResDown(128) → Res(128)×2 →
  ResDown(256) → BN → ReLU → Conv1×1(512) → BN → ReLU → Conv(H/8 × W/8, 512) (4×4 at 32×32,
  giving `[B, 512, 1, 1]`) → flatten → FC256 → BN1d → ReLU → FC10.
- `ResNet18` (He et al. 2016, CIFAR variant: 3×3 stem, no max-pool; 11,173,962 parameters).
- `PreActResNet18` (He et al. 2016b, identity mappings; 11,171,146 parameters).

Input `[B, C, H, W]` float32, output logits `[B, num_classes]`. A residual block computes
`x + F(x)`: the block only has to learn a correction to the identity, so gradients reach early
layers through the skip path unchanged.
"""

from __future__ import annotations

from torch import Tensor, nn

from dlcc.errors import ConfigError
from dlcc.models.cnn import init_course_weights


def bn_relu_conv(cin: int, cout: int, kernel_size: int = 3, stride: int = 1) -> nn.Sequential:
    """Pre-activation unit BN → ReLU → Conv(k, stride, "same" padding).

    `[B, cin, H, W]` → `[B, cout, H/stride, W/stride]`.
    """
    return nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(inplace=False),
                         nn.Conv2d(cin, cout, kernel_size, stride, kernel_size // 2))


class ResBlock(nn.Module):
    """Pre-activation residual block: `x + (BN→ReLU→Conv→BN→ReLU→Conv)(x)`, shape preserved."""

    def __init__(self, channels: int, kernel_size: int = 3):
        super().__init__()
        self.body = nn.Sequential(bn_relu_conv(channels, channels, kernel_size),
                                  bn_relu_conv(channels, channels, kernel_size))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResBlockDownSample(nn.Module):
    """Course downsampling block: `x1 = BN→ReLU→Conv(s2)(x)`, returns `x1 + (BN→ReLU→Conv)(x1)`.

    `[B, cin, H, W]` → `[B, cout, H/2, W/2]`.
    """

    def __init__(self, cin: int, cout: int, kernel_size: int = 3):
        super().__init__()
        self.down = bn_relu_conv(cin, cout, kernel_size, stride=2)
        self.body = bn_relu_conv(cout, cout, kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        x1 = self.down(x)
        return x1 + self.body(x1)


class Cifar10SmallResNet(nn.Module):
    """The course's small pre-activation ResNet (layers in the module docstring).

    Args:
        H, W, C: input size; H and W divisible by 8 (the last conv covers the H/8 × W/8 map).
        num_classes: size of the output layer.
    """

    def __init__(self, H: int = 32, W: int = 32, C: int = 3, num_classes: int = 10):
        super().__init__()
        if H % 8 or W % 8:
            raise ConfigError(f"Cifar10SmallResNet needs H and W divisible by 8, got H={H}, W={W}",
                              fix="build it for an input size divisible by 8, e.g. H=32, W=32")
        self.features = nn.Sequential(
            nn.Conv2d(C, 32, 5, 1, 2),
            ResBlock(32), ResBlock(32), ResBlockDownSample(32, 64),
            ResBlock(64), ResBlock(64), ResBlockDownSample(64, 128),
            ResBlock(128), ResBlock(128), ResBlockDownSample(128, 256),
            nn.BatchNorm2d(256), nn.ReLU(inplace=True), nn.Conv2d(256, 512, 1),
            nn.BatchNorm2d(512), nn.ReLU(inplace=True), nn.Conv2d(512, 512, (H // 8, W // 8)),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(inplace=True),
            nn.Linear(256, num_classes),
        )
        init_course_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """Post-activation ResNet block: `ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x))`.

    The shortcut is a strided 1×1 conv + BN when the shape changes, else the identity.
    """

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class PreActBlock(nn.Module):
    """Pre-activation block: `F(x) + shortcut(x)` with F = BN→ReLU→conv→BN→ReLU→conv.

    The shortcut (1×1 conv, no BN) is taken after the first BN→ReLU when the shape changes.
    """

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.relu = nn.ReLU(inplace=False)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        a = self.relu(self.bn1(x))
        skip = self.shortcut(a) if self.shortcut is not None else x
        out = self.conv2(self.relu(self.bn2(self.conv1(a))))
        return out + skip


class _ResNetCifar(nn.Module):
    """Shared body: 3×3 stem (64) → 4 stages (64, 128, 256, 512; stride 1, 2, 2, 2) → GAP → FC."""

    def __init__(self, block: type, preact: bool, layers=(2, 2, 2, 2), in_channels: int = 3,
                 num_classes: int = 10):
        super().__init__()
        stem = [nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)]
        if not preact:  # post-activation nets normalise the stem; pre-act blocks do it themselves
            stem += [nn.BatchNorm2d(64), nn.ReLU(inplace=True)]
        self.stem = nn.Sequential(*stem)
        stages, cin = [], 64
        for i, (width, n) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for j in range(n):
                blocks.append(block(cin, width, 2 if (i > 0 and j == 0) else 1))
                cin = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        head = [nn.BatchNorm2d(512), nn.ReLU(inplace=True)] if preact else []
        self.head = nn.Sequential(*head, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.stages(self.stem(x)))


class ResNet18(_ResNetCifar):
    """ResNet-18, CIFAR variant (3×3 stem, no max-pool); any input size ≥ 8×8.

    `[B, in_channels, H, W]` → `[B, num_classes]`.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10):
        super().__init__(BasicBlock, False, (2, 2, 2, 2), in_channels, num_classes)


class PreActResNet18(_ResNetCifar):
    """Pre-activation ResNet-18, CIFAR variant; `[B, in_channels, H, W]` → `[B, num_classes]`."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10):
        super().__init__(PreActBlock, True, (2, 2, 2, 2), in_channels, num_classes)
