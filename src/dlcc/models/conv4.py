"""Conv-4: the small embedding network of the few-shot literature (Vinyals et al. 2016; Snell et
al. 2017; Finn et al. 2017).

Four blocks of Conv(3x3, `width`, pad 1) -> BatchNorm -> ReLU -> MaxPool(2), then flatten:
`[B, C, H, W]` -> `[B, width * (H/16) * (W/16)]` (floors at each pool): 28x28 MNIST gives
`width` features, 32x32 CIFAR `4 * width`. 113,088 parameters at width 64 on 3 channels.

`Conv4Classifier` adds a linear head of `ways` outputs, which MAML adapts per task. MAML
(as Finn et al. implement it) normalises every batch with its own statistics, also at test
time: `track_running_stats=False` keeps BatchNorm from ever switching to running averages,
which would otherwise mix statistics across tasks.
"""

from __future__ import annotations

from torch import Tensor, nn


def conv_block(cin: int, cout: int, track_running_stats: bool = True) -> nn.Sequential:
    """Conv3x3 -> BN -> ReLU -> MaxPool2: `[B, cin, H, W]` -> `[B, cout, H//2, W//2]`."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout, track_running_stats=track_running_stats),
                         nn.ReLU(inplace=True), nn.MaxPool2d(2))


class Conv4(nn.Module):
    """The embedding network: `[B, in_channels, H, W]` -> `[B, out_features(H, W)]`."""

    def __init__(self, in_channels: int = 1, width: int = 64, depth: int = 4, track_running_stats: bool = True):
        super().__init__()
        self.width, self.depth = width, depth
        chans = [in_channels] + [width] * depth
        self.features = nn.Sequential(*(conv_block(a, b, track_running_stats) for a, b in zip(chans, chans[1:])))

    def out_features(self, height: int, width: int) -> int:
        for _ in range(self.depth):
            height, width = height // 2, width // 2
        return self.width * height * width

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x).flatten(1)


class Conv4Classifier(nn.Module):
    """Conv-4 and a linear head: `[B, C, H, W]` -> logits `[B, ways]` (MAML's learner)."""

    def __init__(self, in_channels: int, size: tuple[int, int], ways: int, width: int = 64, depth: int = 4):
        super().__init__()
        self.encoder = Conv4(in_channels, width, depth, track_running_stats=False)
        self.head = nn.Linear(self.encoder.out_features(*size), ways)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x))
