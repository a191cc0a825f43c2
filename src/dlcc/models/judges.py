"""Judges: small classifiers that score generated samples (dlcc.generative.quality).

A judge's penultimate features are what the Fréchet distance compares (as FID uses an
Inception network's), and its predicted labels give the conditional accuracy of a
class-conditional generator. dlcc ships trained weights for both (dlcc.generative.judges), so
every user's numbers come from the same instrument.

`MnistJudge`, 130,890 parameters; images `[B, 1, 28, 28]` in [-1, 1]:

    3 x (Conv3x3 -> ReLU -> MaxPool2): 32, 64, 64 channels -> [B, 64, 3, 3]
    -> flatten(576) -> Linear(128) -> ReLU  = features [B, 128] -> Linear(10) = logits

`BeatJudge`, 78,754 parameters; beats `[B, 1, 256]` (z-scored ECG, one lead):

    Conv7(16) -> ReLU -> MaxPool2 -> Conv5(32) -> ReLU -> MaxPool2 -> Conv5(64) -> ReLU
    -> MaxPool4 -> flatten(64·16) -> Linear(64) -> ReLU  = features [B, 64] -> Linear(classes)
"""

from __future__ import annotations

from torch import Tensor, nn


class Judge(nn.Module):
    """`features(x)` (the penultimate layer, `self.body`) and `forward(x)` (logits, `self.head`
    on the features) of a classifier."""

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


class MnistJudge(Judge):
    feature_size = 128

    def __init__(self, num_classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = []
        for cin, cout in ((1, 32), (32, 64), (64, 64)):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 3 * 3, self.feature_size), nn.ReLU())
        self.head = nn.Linear(self.feature_size, num_classes)


class BeatJudge(Judge):
    feature_size = 64

    def __init__(self, num_classes: int = 2, length: int = 256):
        super().__init__()
        if length % 16:
            raise ValueError(f"BeatJudge needs a length divisible by 16, got {length}")
        self.body = nn.Sequential(
            nn.Conv1d(1, 16, 7, padding=3), nn.ReLU(inplace=True), nn.MaxPool1d(2),
            nn.Conv1d(16, 32, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool1d(2),
            nn.Conv1d(32, 64, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool1d(4),
            nn.Flatten(), nn.Linear(64 * (length // 16), self.feature_size), nn.ReLU())
        self.head = nn.Linear(self.feature_size, num_classes)
