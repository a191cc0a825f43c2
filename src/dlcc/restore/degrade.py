"""How clean images are degraded: additive Gaussian noise and bicubic downscaling.

Images are float32 tensors in [0, 1], `[..., H, W]`. σ is given on the 0-255 scale, as in the
literature (σ = 25 means noise of standard deviation 25/255); the noisy image is *not* clipped,
so the noise stays exactly Gaussian (clipping would bias the darkest and brightest pixels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dlcc.errors import ConfigError
from dlcc.restore.models import check_scale

SIGMA_MAX = 100.0   # beyond this the signal is gone (PSNR of the noisy input < 8 dB)


def check_sigma(sigma: float) -> float:
    """σ as a float, or a `ConfigError` unless 0 < σ <= `SIGMA_MAX` (0-255 scale)."""
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 < sigma <= SIGMA_MAX:
        raise ConfigError(f"noise sigma {sigma!r} is out of range: it is on the 0-255 scale and must be "
                          f"> 0 and <= {SIGMA_MAX:g}", fix="--set restore.sigma=25 (15, 25 and 50 are the usual)")
    return float(sigma)


def add_noise(clean: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """`clean + N(0, (σ/255)²)` per pixel, `[..., H, W] -> [..., H, W]`; `generator` makes it
    reproducible (e.g. one fixed noisy copy of each test slice)."""
    sigma = check_sigma(sigma)
    noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype)
    return clean + noise.to(clean.device) * (sigma / 255.0)


def downscale(hr: Tensor, scale: int) -> Tensor:
    """Bicubic downscaling with antialiasing (like MATLAB's `imresize`, the SR benchmarks'
    convention), `[B, C, H, W] -> [B, C, H/scale, W/scale]`; H and W must be multiples of scale."""
    scale = check_scale(scale)
    h, w = hr.shape[-2:]
    if h % scale or w % scale:
        raise ConfigError(f"an image of {h}x{w} pixels cannot be downscaled x{scale} exactly",
                          fix=f"crop it to a multiple of {scale} (e.g. {h - h % scale}x{w - w % scale})")
    lr = F.interpolate(hr, size=(h // scale, w // scale), mode="bicubic", align_corners=False, antialias=True)
    return lr.clamp(0, 1)    # the LR image is an image: stored in [0, 1] like any other
