"""The restoration networks: DnCNN (denoising), ESPCN and SRCNN (super-resolution).

All take and return float images in [0, 1] (values may stray outside; callers clip for metrics).

- `DnCNN` (Zhang et al. 2017): `depth` 3×3 convolutions, `width` channels, BatchNorm in all but
  the first and last. Residual learning: the body predicts the *noise*, and the output is
  `x - body(x)` - a near-identity map is easy to learn, so training converges fast.
  `[B, C, H, W] -> [B, C, H, W]`; cost `(depth - 2) * 9 * width² * H * W` multiply-adds.
- `ESPCN` (Shi et al. 2016): every convolution runs at the *low* resolution; the last one makes
  `scale²` channels per output channel, and `PixelShuffle` rearranges them into a
  `scale`× larger image. `[B, C, h, w] -> [B, C, h*scale, w*scale]`.
  `skip=True` adds the bicubic upsampling of the input, so the net learns only the detail
  bicubic misses (the global residual of VDSR; the original ESPCN has none).
- `SRCNN` (Dong et al. 2014): three convolutions (9-5-5, 64 and 32 channels) on the
  bicubic-upsampled image, `[B, C, H, W] -> [B, C, H, W]` at the high resolution (scale² times
  ESPCN's cost for the same widths).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.errors import ConfigError

SCALES = (2, 4)


def check_scale(scale: int) -> int:
    """`scale` as an int, or a `ConfigError` unless it is one of `SCALES`."""
    if isinstance(scale, bool) or scale not in SCALES:
        raise ConfigError(f"super-resolution scale {scale!r} is not supported; the scales are "
                          f"{', '.join(map(str, SCALES))}", fix="--set restore.scale=2 (or 4)")
    return int(scale)


class DnCNN(nn.Module):
    """Residual denoiser: `forward(x) = x - noise_estimate(x)`.

    Args:
        depth: convolutions in all (>= 3); the paper uses 17 for known σ.
        width: channels of the hidden convolutions (paper: 64).
        channels: image channels (1 for grey EM slices).
    """

    def __init__(self, depth: int = 17, width: int = 64, channels: int = 1):
        super().__init__()
        if depth < 3:
            raise ConfigError(f"DnCNN depth={depth}: it needs at least 3 convolutions (in, BN body, out)",
                              fix="--set model.depth=10")
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            # no conv bias before BN: BN's shift makes it redundant
            layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.depth, self.width = depth, width

    def forward(self, x: Tensor) -> Tensor:
        return x - self.body(x)


def bicubic_up(x: Tensor, scale: int) -> Tensor:
    """Bicubic upsampling `[B, C, h, w] -> [B, C, h*scale, w*scale]` (torch's a = -0.75 kernel)."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


class ESPCN(nn.Module):
    """Sub-pixel convolution network: features at low resolution, then `PixelShuffle(scale)`.

    Args:
        scale: 2 or 4.
        width: channels of the first convolution (the second has width // 2; paper: 64, 32).
        channels: image channels.
        skip: add `bicubic_up(x)` to the output (learn the residual detail only).
        mid_layers: 3×3 tanh convolutions of width // 2 channels between the first and the last
            (paper: 1). Each one widens the view by 2 low-resolution pixels on every side.
    """

    def __init__(self, scale: int = 2, width: int = 64, channels: int = 1, skip: bool = True, mid_layers: int = 1):
        super().__init__()
        self.scale, self.skip = check_scale(scale), bool(skip)
        half = max(1, width // 2)
        mids = []
        for i in range(mid_layers):
            mids += [nn.Conv2d(width if i == 0 else half, half, 3, padding=1), nn.Tanh()]
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 5, padding=2), nn.Tanh(), *mids,
            nn.Conv2d(half if mid_layers else width, channels * self.scale ** 2, 3, padding=1))
        self.shuffle = nn.PixelShuffle(self.scale)   # [B, C*r², h, w] -> [B, C, h*r, w*r]

    def forward(self, x: Tensor) -> Tensor:
        out = self.shuffle(self.features(x))
        return out + bicubic_up(x, self.scale) if self.skip else out


class SRCNN(nn.Module):
    """Three convolutions on the bicubic-upsampled image: patch extraction (9×9), non-linear
    mapping (5×5; the paper's 1×1 variant is weaker) and reconstruction (5×5).

    Args:
        scale: 2 or 4 (the network upsamples its low-resolution input bicubically first).
        width: channels of the first convolution (the second has width // 2; paper: 64, 32).
        skip: add the bicubic image to the output (residual learning), as for `ESPCN`.
    """

    def __init__(self, scale: int = 2, width: int = 64, channels: int = 1, skip: bool = True):
        super().__init__()
        self.scale, self.skip = check_scale(scale), bool(skip)
        half = max(1, width // 2)
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 9, padding=4), nn.ReLU(inplace=True),
            nn.Conv2d(width, half, 5, padding=2), nn.ReLU(inplace=True),
            nn.Conv2d(half, channels, 5, padding=2))

    def forward(self, x: Tensor) -> Tensor:
        up = bicubic_up(x, self.scale)
        out = self.net(up)
        return out + up if self.skip else out
