"""CIFAR-sized images held as uint8 tensors on the training device, augmented a batch at a time.

    from dlcc.data import load_cifar10
    from dlcc.data.cifar_gpu import CifarBatches
    x, y = load_cifar10()["train"]                       # uint8 [50000,32,32,3], int64 [50000]
    train = CifarBatches(x, y, 512, shuffle=True, augment={"crop": 4, "flip": "random"},
                         seed=0, device="cuda")          # or "cpu"
    for images, labels in train:                         # float32 [512,3,32,32] normalised, int64 [512]
        ...

Why: decoding and augmenting images one at a time in Python (PIL + torchvision transforms,
worker processes) costs more than a small network's forward pass. Here the images are
decoded once, kept as one uint8 tensor (`[N, 3, 32, 32]`, 3 KB per image) on the device, and
each batch is cropped, flipped and cut out with a handful of tensor operations: one `gather`
does the random crop (with reflect or zero padding) and the horizontal flip together, because
both only change which source pixel each output pixel reads.

Randomness comes from `loader.generator` (a seeded CPU `torch.Generator`), so a seed fixes the
batch order and every augmentation, and the trainer can save and restore the generator.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor

from dlcc.errors import ConfigError, InputError

# per-channel mean and std of the CIFAR-10 training images (RGB, pixel values / 255)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
FLIPS = ("none", "random", "alternate")
PAD_MODES = ("reflect", "zeros")


def to_nchw_uint8(images) -> Tensor:
    """`[N, H, W, C]` uint8 (numpy or torch, as `load_cifar10` returns) → contiguous `[N, C, H, W]` uint8.

    An array that is already `[N, C, H, W]` (C in 1, 3) is passed through.
    """
    x = torch.as_tensor(np.asarray(images)) if not isinstance(images, Tensor) else images
    if x.dtype != torch.uint8:
        raise InputError(f"images must be uint8 (0..255), got {x.dtype}",
                         fix="pass the arrays from dlcc.data.load_cifar10 (uint8 [N,32,32,3])")
    if x.ndim != 4:
        raise InputError(f"images must be [N, H, W, C] or [N, C, H, W], got shape {tuple(x.shape)}",
                         fix="stack the images into one uint8 array")
    if x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        x = x.permute(0, 3, 1, 2)
    return x.contiguous()


def crop_flip_indices(dy: Tensor, dx: Tensor, flip: Tensor, size: int, pad: int, mode: str
                      ) -> tuple[Tensor, Tensor]:
    """Flat source-pixel indices and validity for a batch of crops of a `size`×`size` image.

    Output pixel `(i, j)` of sample `b` reads source row `i + dy[b] - pad` and source column
    `j' + dx[b] - pad` with `j' = size - 1 - j` when `flip[b]` (mirror) else `j`; this is a crop
    at offset `(dy, dx)` of the image padded by `pad` on every side. Rows/columns outside the
    image are reflected (`mode="reflect"`, like `F.pad(..., mode="reflect")`) or marked invalid
    (`mode="zeros"`, i.e. zero padding).

    Args:
        dy, dx: int64 `[B]` offsets in `[0, 2·pad]`; flip: bool `[B]`.

    Returns:
        index int64 `[B, size·size]` (row-major into the flattened source image) and
        valid bool `[B, size·size]` (all True for reflect).
    """
    if mode not in PAD_MODES:
        raise ConfigError(f"padding mode {mode!r} is not one of {', '.join(PAD_MODES)}",
                          fix="use augment.pad_mode=reflect or augment.pad_mode=zeros")
    ar = torch.arange(size, device=dy.device)
    rows = ar[None, :] + dy[:, None] - pad                                   # [B, size]
    cols = torch.where(flip[:, None], size - 1 - ar[None, :], ar[None, :]) + dx[:, None] - pad
    if mode == "reflect":
        rows, cols = _reflect(rows, size), _reflect(cols, size)
        valid = torch.ones(len(dy), size * size, dtype=torch.bool, device=dy.device)
    else:
        valid = (((rows >= 0) & (rows < size))[:, :, None] & ((cols >= 0) & (cols < size))[:, None, :])
        valid = valid.reshape(len(dy), -1)
        rows, cols = rows.clamp(0, size - 1), cols.clamp(0, size - 1)
    index = (rows[:, :, None] * size + cols[:, None, :]).reshape(len(dy), -1)
    return index, valid


def _reflect(idx: Tensor, size: int) -> Tensor:
    """Mirror indices into `[0, size)` without repeating the edge (…2 1 | 0 1 2 … n-1 | n-2 …)."""
    idx = torch.where(idx < 0, -idx, idx)
    return torch.where(idx >= size, 2 * (size - 1) - idx, idx)


def crop_flip(images: Tensor, dy: Tensor, dx: Tensor, flip: Tensor, pad: int, mode: str = "reflect") -> Tensor:
    """Random-crop-with-padding and horizontal flip of a square batch, in one gather.

    `images [B, C, S, S]` (any dtype) → `[B, C, S, S]`, the crop of each padded image at
    `(dy[b], dx[b])`, mirrored left-right where `flip[b]`. Zero padding fills with 0.
    """
    b, c, h, w = images.shape
    if h != w:
        raise InputError(f"crop_flip expects square images, got {h}×{w}", fix="pad or crop to a square first")
    index, valid = crop_flip_indices(dy, dx, flip, h, pad, mode)
    flat = images.reshape(b, c, h * w)
    out = torch.gather(flat, 2, index[:, None, :].expand(b, c, h * w))
    if mode == "zeros":
        out = out * valid[:, None, :].to(out.dtype)
    return out.reshape(b, c, h, w)


def cutout(images: Tensor, size: int, cy: Tensor, cx: Tensor) -> Tensor:
    """Zero a `size`×`size` square per image (DeVries & Taylor 2017), centred at `(cy[b], cx[b])`
    and clipped at the borders. `images [B, C, H, W]`; returns a new tensor."""
    h, w = images.shape[-2:]
    lo = size // 2
    ys = torch.arange(h, device=images.device)[None, :]
    xs = torch.arange(w, device=images.device)[None, :]
    in_y = (ys >= (cy[:, None] - lo)) & (ys < (cy[:, None] - lo + size))   # [B, H]
    in_x = (xs >= (cx[:, None] - lo)) & (xs < (cx[:, None] - lo + size))   # [B, W]
    hole = in_y[:, :, None] & in_x[:, None, :]                             # [B, H, W]
    return images.masked_fill(hole[:, None], 0)


def normalize(images: Tensor, mean=CIFAR10_MEAN, std=CIFAR10_STD, dtype: torch.dtype = torch.float32,
              channels_last: bool = False) -> Tensor:
    """uint8 `[B, C, H, W]` → `(x/255 - mean) / std` in `dtype` (per channel), optionally channels-last."""
    c = images.shape[1]
    if len(mean) != c or len(std) != c:
        raise InputError(f"mean/std have {len(mean)}/{len(std)} values for {c}-channel images",
                         fix="give one mean and one std per channel")
    scale = torch.tensor([1.0 / (255.0 * s) for s in std], device=images.device, dtype=dtype).view(1, c, 1, 1)
    shift = torch.tensor([m / s for m, s in zip(mean, std)], device=images.device, dtype=dtype).view(1, c, 1, 1)
    out = images.to(dtype) * scale - shift
    return out.contiguous(memory_format=torch.channels_last) if channels_last else out


def check_augment(augment: dict | None) -> dict:
    """Fill in defaults and validate an augmentation spec.

    Keys: `crop` (padding in pixels, 0 = no random crop; default 4), `pad_mode` ("reflect" |
    "zeros"; default "reflect"), `flip` ("random" | "alternate" | "none"; default "random"),
    `cutout` (side of the zeroed square, 0 = off; default 0). "alternate" (from airbench) gives
    each image a random first flip and then mirrors it every other epoch, so each image is
    seen both ways in any two consecutive epochs.
    """
    spec = {"crop": 4, "pad_mode": "reflect", "flip": "random", "cutout": 0}
    unknown = set(augment or {}) - set(spec)
    if unknown:
        raise ConfigError(f"unknown augmentation setting(s) {sorted(unknown)}",
                          fix=f"use some of: {', '.join(spec)}")
    spec.update(augment or {})
    if spec["flip"] in (True, False):
        spec["flip"] = "random" if spec["flip"] else "none"
    if spec["flip"] not in FLIPS:
        raise ConfigError(f"augment.flip={spec['flip']!r} is not one of {', '.join(FLIPS)}",
                          fix="use augment.flip=random")
    if spec["pad_mode"] not in PAD_MODES:
        raise ConfigError(f"augment.pad_mode={spec['pad_mode']!r} is not one of {', '.join(PAD_MODES)}",
                          fix="use augment.pad_mode=reflect")
    for key in ("crop", "cutout"):
        if not isinstance(spec[key], int) or spec[key] < 0:
            raise ConfigError(f"augment.{key}={spec[key]!r} must be a whole number >= 0",
                              fix=f"e.g. augment.{key}={4 if key == 'crop' else 8}")
    return spec


class CifarBatches:
    """Batches of `(images float [B, C, H, W], labels int64 [B])` from uint8 images on `device`.

    Args:
        images: uint8 `[N, H, W, C]` or `[N, C, H, W]` with square images (numpy or torch).
        labels: int `[N]`.
        batch_size: images per batch.
        shuffle: a new random order each epoch (from `self.generator`).
        augment: None for no augmentation, else a dict (see `check_augment`): random crop with
            padding, horizontal flip ("random" or "alternate"), cutout.
        seed: seeds `self.generator` (order and augmentation).
        device: where images live and batches are made ("cpu", "cuda", a torch.device).
        drop_last: skip the last incomplete batch (keeps BatchNorm statistics steady).
        mean, std: per-channel normalisation; `dtype`: output dtype; `channels_last`: output
            memory format (faster convolutions on CPU with oneDNN and on tensor-core GPUs).

    `len(loader)` is the number of batches per epoch. `loader.epoch` counts the epochs started.
    """

    def __init__(self, images, labels, batch_size: int, *, shuffle: bool = False, augment: dict | None = None,
                 seed: int = 0, device: str | torch.device = "cpu", drop_last: bool = False,
                 mean=CIFAR10_MEAN, std=CIFAR10_STD, dtype: torch.dtype = torch.float32,
                 channels_last: bool = False):
        if int(batch_size) < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}", fix="e.g. --set batch_size=256")
        self.device = torch.device(device)
        self.images = to_nchw_uint8(images).to(self.device)
        self.labels = torch.as_tensor(np.asarray(labels) if not isinstance(labels, Tensor) else labels
                                      ).long().to(self.device)
        if len(self.images) != len(self.labels) or len(self.images) == 0:
            raise InputError(f"{len(self.images)} images and {len(self.labels)} labels: need the same, "
                             "non-zero number", fix="pass one label per image")
        if self.images.shape[-1] != self.images.shape[-2]:
            raise InputError(f"images must be square, got {tuple(self.images.shape[-2:])}",
                             fix="CIFAR images are 32×32; crop or pad other data first")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.augment = None if augment is None else check_augment(augment)
        self.mean, self.std, self.dtype, self.channels_last = tuple(mean), tuple(std), dtype, channels_last
        self.generator = torch.Generator().manual_seed(int(seed))
        # per-image first flip for "alternate" mode, fixed for the loader's lifetime
        self._flip_phase = torch.rand(len(self.images), generator=torch.Generator().manual_seed(int(seed) + 1)) < 0.5
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.images)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = len(self.images)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        epoch, self.epoch = self.epoch, self.epoch + 1
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.make_batch(idx, epoch)

    def make_batch(self, idx: Tensor, epoch: int = 0) -> tuple[Tensor, Tensor]:
        """The (augmented, normalised) batch of the images at CPU indices `idx` `[B]`."""
        dev_idx = idx.to(self.device)
        x, y = self.images[dev_idx], self.labels[dev_idx]
        aug = self.augment
        if aug is not None:
            b, g = len(idx), self.generator
            pad = aug["crop"]
            dy = torch.randint(0, 2 * pad + 1, (b,), generator=g)
            dx = torch.randint(0, 2 * pad + 1, (b,), generator=g)
            if aug["flip"] == "random":
                flip = torch.rand(b, generator=g) < 0.5
            elif aug["flip"] == "alternate":
                flip = self._flip_phase[idx] ^ bool(epoch % 2)
            else:
                flip = torch.zeros(b, dtype=torch.bool)
            if pad or flip.any():
                x = crop_flip(x, dy.to(self.device), dx.to(self.device), flip.to(self.device), pad, aug["pad_mode"])
        x = normalize(x, self.mean, self.std, self.dtype)
        if aug is not None and aug["cutout"]:
            h, w = x.shape[-2:]
            cy = torch.randint(0, h, (len(idx),), generator=self.generator).to(self.device)
            cx = torch.randint(0, w, (len(idx),), generator=self.generator).to(self.device)
            x = cutout(x, aug["cutout"], cy, cx)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y
