"""1-D GAN for heartbeats: the course's PixelShuffle generator and convolutional discriminator
carried over from 28×28 images to beats of 256 samples (one ECG lead).

`BeatGenerator(latent=64, num_classes=2, length=256)`, 1,097,361 parameters:

    z [B, latent] (+ one-hot class) -> Linear(512) -> BN -> ReLU -> Linear(64·L/8) -> BN -> ReLU
    -> reshape [B, 64, L/8] -> 3 x (PixelShuffle1d(2) -> Conv5 -> BN -> ReLU):
       [B, 32, L/4] (32 ch), [B, 16, L/2] (16 ch), [B, 8, L] (16 ch) -> Conv5(1)     [B, 1, L]

The output is linear (no tanh): beats are z-scored, with R peaks up to about 10.
`PixelShuffle1d(r)` moves `r` channels into `r` consecutive samples, the 1-D analogue of
`nn.PixelShuffle`.

`BeatDiscriminator(length=256, num_outputs=1)`, 1,090,785 parameters with one output:

    x [B, 1, L] -> Conv4 s2 (32) -> LeakyReLU(0.1) -> Conv4 s2 (64) -> norm -> LeakyReLU
    -> Conv4 s2 (128) -> norm -> LeakyReLU -> flatten(128·L/8) -> Linear(256) -> LeakyReLU
    -> Linear(num_outputs)

Conditioning and normalisation options are those of `dlcc.models.gan.Discriminator`.
"""

from __future__ import annotations

from torch import Tensor, nn

from dlcc.errors import ConfigError
from dlcc.models.gan import Conditioning, Norm, feature_norm, init_gan_weights, project, with_labels


class PixelShuffle1d(nn.Module):
    """`[B, C·r, L]` -> `[B, C, L·r]`: output sample `l·r + i` of channel c is input channel
    `c·r + i` at `l` (as PixelShuffle orders sub-pixels)."""

    def __init__(self, factor: int):
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        b, cr, length = x.shape
        r = self.factor
        return x.view(b, cr // r, r, length).transpose(2, 3).reshape(b, cr // r, length * r)


def _up(cin: int, cout: int) -> list[nn.Module]:
    return [PixelShuffle1d(2), nn.Conv1d(cin // 2, cout, 5, padding=2), nn.BatchNorm1d(cout), nn.ReLU(inplace=True)]


class BeatGenerator(nn.Module):
    def __init__(self, latent: int = 64, num_classes: int = 2, length: int = 256):
        super().__init__()
        if length % 8:
            raise ConfigError(f"BeatGenerator needs a length divisible by 8, got {length}", fix="e.g. length=256")
        self.latent, self.num_classes, self.length = latent, num_classes, length
        self.project = nn.Sequential(
            nn.Linear(latent + num_classes, 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True),
            nn.Linear(512, 64 * (length // 8)), nn.BatchNorm1d(64 * (length // 8)), nn.ReLU(inplace=True))
        self.upsample = nn.Sequential(*_up(64, 32), *_up(32, 16), *_up(16, 16),
                                      nn.Conv1d(16, 1, 5, padding=2))
        init_gan_weights(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.project(with_labels(z, labels, self.num_classes))
        return self.upsample(h.view(len(h), 64, self.length // 8))


class BeatDiscriminator(nn.Module):
    def __init__(self, length: int = 256, num_outputs: int = 1, norm: Norm = "batch",
                 conditioning: Conditioning = "output", num_classes: int = 0):
        super().__init__()
        if length % 8:
            raise ConfigError(f"BeatDiscriminator needs a length divisible by 8, got {length}", fix="e.g. length=256")
        if conditioning == "projection" and num_classes < 2:
            raise ConfigError("a projection discriminator needs num_classes >= 2", fix="pass num_classes")
        self.features = nn.Sequential(
            nn.Conv1d(1, 32, 4, 2, 1), nn.LeakyReLU(0.1, inplace=True),
            nn.Conv1d(32, 64, 4, 2, 1), feature_norm(norm, 64, 1), nn.LeakyReLU(0.1, inplace=True),
            nn.Conv1d(64, 128, 4, 2, 1), feature_norm(norm, 128, 1), nn.LeakyReLU(0.1, inplace=True),
            nn.Flatten(), nn.Linear(128 * (length // 8), 256), nn.LeakyReLU(0.1, inplace=True))
        self.head = nn.Linear(256, num_outputs)
        self.embed = nn.Embedding(num_classes, 256) if conditioning == "projection" else None
        init_gan_weights(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.features(x)
        return project(self.head(h), h, self.embed, labels)
