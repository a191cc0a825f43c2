"""SimCLR's augmentations for small images, drawn per image on whole batches.

`torchvision.transforms.v2` draws *one* set of random parameters per call, so on a batch
tensor every image would get the same crop; SimCLR needs each image (and each view) to get
its own. Every step here therefore draws a parameter per image and applies all of them in
one vectorised operation:

- random resized crop + horizontal flip: one affine sampling grid per image (`grid_sample`);
- colour jitter (probability `p_jitter`): brightness, contrast, saturation, hue - hue as a
  rotation of the chroma plane in YIQ space, a 3x3 matrix per image (one-channel images, such
  as electron micrographs, get brightness and contrast only);
- greyscale (probability `p_grey`, RGB only).

A batch of 512 32x32 images takes a few milliseconds on one core, far less than the network.

    views = TwoViews(SimCLRAugment())
    v1, v2 = views(images_uint8)        # [B, 3, H, W] uint8 -> two [B, 3, H, W] float, normalised
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

_GREY = torch.tensor([0.299, 0.587, 0.114])
# RGB <-> YIQ: hue is the angle of the (I, Q) chroma vector
_RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ2RGB = torch.linalg.inv(_RGB2YIQ)


@dataclass
class SimCLRAugment:
    """One random view per image. Inputs uint8 or float in [0, 1]; outputs float, normalised
    with `mean`/`std` (per channel).

    Attributes:
        crop_scale: range of the crop's area as a fraction of the image (SimCLR: 0.08-1;
            0.2-1 suits 32x32 images, where tiny crops hold almost nothing).
        ratio: range of the crop's aspect ratio (w/h), drawn log-uniformly.
        flip: probability of a horizontal flip.
        jitter: strength s of the colour jitter: brightness, contrast and saturation by
            0.8 s, hue by 0.2 s (SimCLR's convention; s = 0.5 is its CIFAR setting).
        p_jitter, p_grey: probabilities of the colour jitter and of greyscale.
    """

    crop_scale: tuple[float, float] = (0.2, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip: float = 0.5
    jitter: float = 0.5
    p_jitter: float = 0.8
    p_grey: float = 0.2
    mean: tuple[float, ...] = (0.4914, 0.4822, 0.4465)
    std: tuple[float, ...] = (0.2470, 0.2435, 0.2616)

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        x = images.float() / 255 if images.dtype == torch.uint8 else images.float()
        x = resized_crop_flip(x, self.crop_scale, self.ratio, self.flip, generator)
        if self.jitter > 0 and self.p_jitter > 0:
            x = colour_jitter(x, self.jitter, self.p_jitter, generator)
        if self.p_grey > 0 and x.shape[1] == 3:
            x = random_greyscale(x, self.p_grey, generator)
        mean = torch.tensor(self.mean[: x.shape[1]], device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std[: x.shape[1]], device=x.device).view(1, -1, 1, 1)
        return (x - mean) / std


class TwoViews:
    """Two independent views of every image of a batch: `views(x) -> (v1, v2)`."""

    def __init__(self, augment: SimCLRAugment | None = None):
        self.augment = augment or SimCLRAugment()

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        return self.augment(images, generator), self.augment(images, generator)


def _uniform(n: int, low: float, high: float, device, generator) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=generator).to(device)


def resized_crop_flip(x: Tensor, scale: tuple[float, float], ratio: tuple[float, float], p_flip: float,
                      generator: torch.Generator | None = None) -> Tensor:
    """Per-image random resized crop (resampled to the input size, bilinear) and flip.

    Args:
        x: `[B, C, H, W]` float.
    Returns:
        `[B, C, H, W]`: for each image a crop of area `scale` x H x W and aspect ratio `ratio`,
        at a random place inside the image, mirrored with probability `p_flip`.
    """
    b = x.shape[0]
    area = _uniform(b, *scale, x.device, generator)
    log_r = _uniform(b, math.log(ratio[0]), math.log(ratio[1]), x.device, generator)
    aspect = log_r.exp()
    # crop side as a fraction of the image side (grid coordinates span [-1, 1], so the
    # affine scale is that fraction and the centre moves within +-(1 - fraction))
    w = (area * aspect).sqrt().clamp(max=1.0)
    h = (area / aspect).sqrt().clamp(max=1.0)
    cx = (2 * torch.rand(b, generator=generator).to(x.device) - 1) * (1 - w)
    cy = (2 * torch.rand(b, generator=generator).to(x.device) - 1) * (1 - h)
    sign = torch.where(torch.rand(b, generator=generator).to(x.device) < p_flip, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 0, 2] = w * sign, cx
    theta[:, 1, 1], theta[:, 1, 2] = h, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def colour_jitter(x: Tensor, strength: float, p: float, generator: torch.Generator | None = None) -> Tensor:
    """Per-image brightness, contrast, saturation and hue changes, each image with probability
    `p` (the others pass unchanged). `x`: `[B, 3, H, W]` (or `[B, 1, H, W]`: brightness and
    contrast only) in [0, 1]; the result is clamped to [0, 1]."""
    b, dev, c = x.shape[0], x.device, x.shape[1]
    on = (torch.rand(b, generator=generator).to(dev) < p).view(b, 1, 1, 1)
    s = 0.8 * strength

    def factor() -> Tensor:
        return _uniform(b, max(0.0, 1 - s), 1 + s, dev, generator).view(b, 1, 1, 1)

    def luma(t: Tensor) -> Tensor:
        return t if c == 1 else (t * _GREY.to(dev).view(1, 3, 1, 1)).sum(1, keepdim=True)

    out = (x * factor()).clamp(0, 1)                                   # brightness
    mean = luma(out).mean((2, 3), keepdim=True)
    out = (mean + factor() * (out - mean)).clamp(0, 1)                 # contrast
    if c != 3:
        return torch.where(on, out, x)
    grey = luma(out)
    out = (grey + factor() * (out - grey)).clamp(0, 1)                 # saturation
    angle = _uniform(b, -0.2 * strength, 0.2 * strength, dev, generator) * 2 * math.pi
    cos, sin = angle.cos(), angle.sin()
    rot = torch.zeros(b, 3, 3, device=dev)
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = cos, -sin, sin, cos
    m = _YIQ2RGB.to(dev) @ rot @ _RGB2YIQ.to(dev)                       # [B, 3, 3] hue rotation in RGB
    out = torch.einsum("bij,bjhw->bihw", m, out).clamp(0, 1)           # hue
    return torch.where(on, out, x)


def random_greyscale(x: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """Each image of `[B, 3, H, W]` replaced by its luma (on all 3 channels) with probability `p`."""
    b = x.shape[0]
    on = (torch.rand(b, generator=generator).to(x.device) < p).view(b, 1, 1, 1)
    grey = (x * _GREY.to(x.device).view(1, 3, 1, 1)).sum(1, keepdim=True).expand_as(x)
    return torch.where(on, grey, x)
