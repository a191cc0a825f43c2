"""Training pairs from clean images: random patches, degraded on the fly.

Clean images are float32 `[N, 1, H, W]` in [0, 1] (e.g. ISBI EM slices / 255). Every batch
draws fresh patches and fresh noise, so a small stack of slices gives an endless supply of
pairs (DnCNN's recipe): each patch comes from a random image at a random position, with one
of the 8 flips/rotations of the square (EM sections have no preferred orientation).
Randomness comes from torch's global generator (seeded per run, saved in checkpoints).

Both datasets are batch-indexable: `ds[[i, j, k]]` returns a whole batch, as
`dlcc.train.make_loader` asks; the indices only count the patches of an epoch.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset

from dlcc.errors import ConfigError
from dlcc.restore.degrade import add_noise, check_sigma, downscale
from dlcc.restore.models import check_scale


def check_crop(crop: int, images: Tensor, what: str = "data.patch") -> int:
    """`crop` as an int, or a `ConfigError` when it is larger than the smallest image side."""
    side = min(images.shape[-2:])
    if not 1 <= int(crop) <= side:
        raise ConfigError(f"{what}={crop} is larger than the images ({images.shape[-2]}x{images.shape[-1]} "
                          "pixels): a crop must fit inside every image",
                          fix=f"--set {what}={min(side, 64)} (at most {side})")
    return int(crop)


def random_patches(images: Tensor, n: int, patch: int) -> Tensor:
    """`n` random `patch`×`patch` crops of `images` `[N, C, H, W]`, each randomly flipped and
    rotated by a multiple of 90° -> `[n, C, patch, patch]`."""
    check_crop(patch, images)
    which = torch.randint(len(images), (n,))
    tops = torch.randint(images.shape[-2] - patch + 1, (n,))
    lefts = torch.randint(images.shape[-1] - patch + 1, (n,))
    turns, flips = torch.randint(4, (n,)), torch.randint(2, (n,))
    out = []
    for i, t, l, k, f in zip(which.tolist(), tops.tolist(), lefts.tolist(), turns.tolist(), flips.tolist()):
        crop = images[i, :, t:t + patch, l:l + patch]
        crop = torch.rot90(crop, k, dims=(-2, -1))
        out.append(crop.flip(-1) if f else crop)
    return torch.stack(out).contiguous()


def center_crop(images: Tensor, size: int) -> Tensor:
    """The central `size`×`size` window of `[..., H, W]` (deterministic validation pairs)."""
    check_crop(size, images, "data.val_crop")
    top, left = (images.shape[-2] - size) // 2, (images.shape[-1] - size) // 2
    return images[..., top:top + size, left:left + size]


class NoisyPatches(Dataset):
    """`(noisy, clean)` batches of random patches `[B, 1, patch, patch]`, noise σ on 0-255."""

    def __init__(self, images: Tensor, patch: int, sigma: float, length: int):
        self.images, self.patch, self.length = images, check_crop(patch, images), int(length)
        self.sigma = check_sigma(sigma)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index) -> tuple[Tensor, Tensor]:
        clean = random_patches(self.images, len(index), self.patch)
        return add_noise(clean, self.sigma), clean


class LowResPatches(Dataset):
    """`(low-res, high-res)` batches: high-res patches `[B, 1, patch, patch]` and their bicubic
    ×scale downscaling `[B, 1, patch/scale, patch/scale]`."""

    def __init__(self, images: Tensor, patch: int, scale: int, length: int):
        self.scale = check_scale(scale)
        self.images, self.patch, self.length = images, check_crop(patch, images), int(length)
        if patch % self.scale:
            raise ConfigError(f"data.patch={patch} is not a multiple of the scale {scale}",
                              fix=f"--set data.patch={patch - patch % self.scale or self.scale * 16}")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index) -> tuple[Tensor, Tensor]:
        hr = random_patches(self.images, len(index), self.patch)
        return downscale(hr, self.scale), hr
