"""The course's GAN for 28×28 images (2021 A5 `gan.py`): a PixelShuffle generator and a
convolutional discriminator, unconditional or class-conditional.

`Generator(latent=64, channels=1, num_classes=0)`, 1,654,121 parameters for MNIST:

    z [B, latent] (+ one-hot class [B, num_classes])
    -> Linear(512) -> BN1d -> ReLU -> Linear(64·7·7) -> BN1d -> ReLU -> reshape [B, 64, 7, 7]
    -> PixelShuffle(2) [B, 16, 14, 14] -> Conv3x3(32) -> BN -> ReLU
    -> PixelShuffle(2) [B, 8, 28, 28] -> Conv3x3(channels) -> tanh        images in [-1, 1]

PixelShuffle(r) turns `r²` channels into an `r×r` block of pixels: learned upsampling without
the checkerboard artefacts of a strided transposed convolution.

`Discriminator(28, 28, channels=1, num_outputs=1)`, 1,641,249 parameters with one output:

    x [B, C, 28, 28] -> Conv4x4 s2 (32) -> norm -> LeakyReLU(0.1) -> Conv4x4 s2 (64) -> norm
    -> LeakyReLU -> flatten(64·7·7) -> Linear(512) -> norm -> LeakyReLU -> Linear(num_outputs)

It returns logits `[B, num_outputs]`. The course's conditional discriminator has one output
per class and is read at the sample's class (`D(x, y) = σ(logit[y])`, see dlcc.losses.gan);
`conditioning="projection"` adds Miyato & Koyama's (2018) projection term instead, the inner
product of a class embedding with the features, which ties the class to the image more
strongly. `norm="batch"` is the course's; WGAN-GP needs `"layer"` or `"none"`, because its
gradient penalty is per sample and batch statistics mix the samples of a batch (Gulrajani et
al. 2017, section 4).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.errors import ConfigError, InputError

Norm = Literal["batch", "layer", "none"]
Conditioning = Literal["output", "projection"]


def init_gan_weights(model: nn.Module) -> None:
    """The course's initialisation: Xavier-uniform linears, Kaiming-normal convolutions."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def one_hot(labels: Tensor, num_classes: int) -> Tensor:
    """int64 `[B]` -> float32 `[B, num_classes]`, refusing labels out of range."""
    if labels.dtype not in (torch.int32, torch.int64) or labels.dim() != 1:
        raise InputError(f"class labels must be int64 [B], got {labels.dtype} {tuple(labels.shape)}",
                         fix="pass labels as torch.long with one entry per sample")
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise InputError(f"class labels must be in 0..{num_classes - 1}, got {int(labels.min())}..{int(labels.max())}",
                         fix=f"use labels 0..{num_classes - 1}")
    return F.one_hot(labels.long(), num_classes).float()


def feature_norm(kind: Norm, channels: int, dims: int) -> nn.Module:
    """The normalisation after a layer with `channels` features: BatchNorm, a per-sample norm
    over all features (GroupNorm(1) for convolutions, LayerNorm for vectors), or none."""
    if kind == "batch":
        return (nn.BatchNorm1d, nn.BatchNorm1d, nn.BatchNorm2d)[dims](channels)
    if kind == "layer":
        return nn.LayerNorm(channels) if dims == 0 else nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"norm={kind!r} is not one of batch, layer, none", fix="e.g. norm='layer' for WGAN-GP")


class Generator(nn.Module):
    """The course's PixelShuffle generator (module docstring): `z [B, latent]` (and `labels
    [B]` int64 when `num_classes > 0`) -> images `[B, channels, 28, 28]` in [-1, 1]."""

    def __init__(self, latent: int = 64, channels: int = 1, num_classes: int = 0):
        super().__init__()
        self.latent, self.channels, self.num_classes = latent, channels, num_classes
        self.project = nn.Sequential(
            nn.Linear(latent + num_classes, 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True),
            nn.Linear(512, 64 * 7 * 7), nn.BatchNorm1d(64 * 7 * 7), nn.ReLU(inplace=True))
        self.upsample = nn.Sequential(
            nn.PixelShuffle(2), nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.PixelShuffle(2), nn.Conv2d(8, channels, 3, padding=1), nn.Tanh())
        init_gan_weights(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        z = with_labels(z, labels, self.num_classes)
        return self.upsample(self.project(z).view(-1, 64, 7, 7))


def with_labels(z: Tensor, labels: Tensor | None, num_classes: int) -> Tensor:
    """`[B, latent]` -> `[B, latent + num_classes]` with the one-hot class appended (the
    course's conditioning of the generator); unchanged for an unconditional generator."""
    if num_classes == 0:
        if labels is not None:
            raise InputError("this generator is unconditional but got class labels",
                             fix="build it with num_classes > 0, or leave out the labels")
        return z
    if labels is None:
        raise InputError(f"this generator is conditional ({num_classes} classes) and needs class labels",
                         fix="call G(z, labels) with labels int64 [B]")
    if len(labels) != len(z):
        raise InputError(f"{len(z)} latent vectors but {len(labels)} labels", fix="give one label per sample")
    return torch.cat([z, one_hot(labels, num_classes).to(z)], dim=1)


class Discriminator(nn.Module):
    """The course's convolutional discriminator (module docstring): images `[B, C, H, W]`
    (H and W divisible by 4) -> logits `[B, num_outputs]`.

    Args:
        num_outputs: 1 for a GAN or WGAN critic; the number of classes for the course's
            conditional discriminator (one logit per class).
        norm: "batch" (the course's), "layer" or "none" (for WGAN-GP).
        conditioning: "output" (one logit per class, read at the class) or "projection"
            (one logit plus the projection term; `forward(x, labels)` then needs labels).
    """

    def __init__(self, H: int = 28, W: int = 28, channels: int = 1, num_outputs: int = 1, norm: Norm = "batch",
                 conditioning: Conditioning = "output", num_classes: int = 0):
        super().__init__()
        if H % 4 or W % 4:
            raise ConfigError(f"the discriminator needs H and W divisible by 4, got {H}x{W}",
                              fix="build it for 28x28 or 32x32 images")
        if conditioning == "projection" and num_classes < 2:
            raise ConfigError("a projection discriminator needs num_classes >= 2", fix="pass num_classes")
        flat = 64 * (H // 4) * (W // 4)
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1), feature_norm(norm, 32, 2), nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(32, 64, 4, 2, 1), feature_norm(norm, 64, 2), nn.LeakyReLU(0.1, inplace=True),
            nn.Flatten(), nn.Linear(flat, 512), feature_norm(norm, 512, 0), nn.LeakyReLU(0.1, inplace=True))
        self.head = nn.Linear(512, num_outputs)
        self.conditioning, self.num_classes = conditioning, num_classes
        self.embed = nn.Embedding(num_classes, 512) if conditioning == "projection" else None
        init_gan_weights(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.features(x)
        return project(self.head(h), h, self.embed, labels)


def project(logits: Tensor, features: Tensor, embed: nn.Embedding | None, labels: Tensor | None) -> Tensor:
    """The projection discriminator's output: `logits + <embed(y), features>` (`[B, 1]`);
    without an embedding the logits unchanged (labels are then read by the loss)."""
    if embed is None:
        return logits
    if labels is None:
        raise InputError("a projection discriminator needs the class labels", fix="call D(x, labels)")
    return logits + (embed(labels) * features).sum(dim=1, keepdim=True)
