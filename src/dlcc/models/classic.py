"""Classic CNNs from the lectures' history of image classification, sized for small images.

- `LeNet5` (LeCun et al. 1998): conv5(6) → pool → conv5(16) → pool → FC120 → FC84 → FC10.
  61,706 parameters for 1×32×32 input (MNIST's 28×28 is padded by 2 in the first conv).
- `AlexNetSmall`: AlexNet's pattern (Krizhevsky et al. 2012) — five convs (64, 192, 384, 256,
  256), three max-pools, dropout-regularised FC head — scaled to 32×32 inputs.
- `VGG` (Simonyan & Zisserman 2014): stacks of 3×3 convs + BN between 2×2 max-pools, configs
  "vgg11", "vgg13", "vgg16", "vgg19", with the CIFAR-style single linear head.

All take `[B, C, H, W]` float32 and return logits `[B, num_classes]`.
"""

from __future__ import annotations

from torch import Tensor, nn

from dlcc.errors import ConfigError


class LeNet5(nn.Module):
    """LeNet-5 with tanh and average pooling, as in the original.

    Args:
        in_channels: 1 for MNIST.
        input_size: 32 (original) or 28 (MNIST; the first conv pads by 2 so C1 is still 28×28).
        num_classes: outputs.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 32):
        super().__init__()
        if input_size not in (28, 32):
            raise ConfigError(f"LeNet5 input_size must be 28 or 32, got {input_size}",
                              fix="resize or pad images to 32×32 (or 28×28)")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2 if input_size == 28 else 0), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class AlexNetSmall(nn.Module):
    """AlexNet-style net for 32×32: 3×3 convs (64, 192, 384, 256, 256) with three 2× max-pools
    (32 → 4), then Dropout → FC1024 → ReLU → Dropout → FC1024 → ReLU → FC.

    Input must be 32×32 (the FC head is sized for a 4×4 map).
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, dropout: float = 0.5):
        super().__init__()

        def conv(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *conv(in_channels, 64), nn.MaxPool2d(2),
            *conv(64, 192), nn.MaxPool2d(2),
            *conv(192, 384), *conv(384, 256), *conv(256, 256), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(256 * 4 * 4, 1024), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(1024, 1024), nn.ReLU(inplace=True), nn.Linear(1024, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


VGG_CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """VGG with BatchNorm for 32×32 inputs (five pools take 32 → 1), head = one Linear(512, classes).

    Args:
        config: "vgg11", "vgg13", "vgg16" or "vgg19".
        batch_norm: BN after every conv (convs then have no bias).
    """

    def __init__(self, config: str = "vgg11", in_channels: int = 3, num_classes: int = 10,
                 batch_norm: bool = True):
        super().__init__()
        if config not in VGG_CONFIGS:
            raise ConfigError(f"unknown VGG config {config!r}", fix=f"use one of {', '.join(VGG_CONFIGS)}")
        layers: list[nn.Module] = []
        cin = in_channels
        for item in VGG_CONFIGS[config]:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            layers.append(nn.Conv2d(cin, int(item), 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(item)))
            layers.append(nn.ReLU(inplace=True))
            cin = int(item)
        self.features = nn.Sequential(*layers)
        # adaptive pooling makes inputs other than 32×32 work too (e.g. 64×64 → 2×2 → 1×1)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
