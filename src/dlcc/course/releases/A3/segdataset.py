"""A3 (d): random training patches with paired augmentation.

The ISBI stack has only 30 labelled 512×512 slices, so the U-Net trains on random patches:
each item is a random `patch`×`patch` window of one slice, flipped left-right and/or up-down
at random. The mask must get exactly the same crop and flips as its image, or the labels no
longer sit on the pixels they describe.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


class SegmentationPatches(Dataset):
    """Args:
        images: float32 `[N, H, W]` grey images (e.g. scaled to [0, 1]).
        masks: `[N, H, W]` with 1 = foreground, 0 = background.
        patch: side of the square patches (<= H and <= W).
        length: items per epoch; item i comes from image `i % N`.
        flips: flip left-right and up-down, each with probability 0.5 (independently).

    `ds[i]` -> (image float32 tensor `[1, patch, patch]`, mask float32 tensor `[1, patch, patch]`).
    Draw the random numbers with torch (`torch.randint`, `torch.rand`), so that
    `torch.manual_seed` makes the patches reproducible.
    """

    def __init__(self, images, masks, patch: int = 256, length: int = 100, flips: bool = True):
        self.images = np.asarray(images, dtype=np.float32)
        self.masks = np.asarray(masks, dtype=np.float32)
        if self.images.shape != self.masks.shape or self.images.ndim != 3:
            raise ValueError(f"images {self.images.shape} and masks {self.masks.shape} must both be [N, H, W]")
        if patch > min(self.images.shape[1:]):
            raise ValueError(f"patch {patch} is larger than the images {self.images.shape[1:]}")
        self.patch, self.length, self.flips = int(patch), int(length), flips

    def __len__(self) -> int:
        # TODO (A3.9): your code here
        raise NotImplementedError("A3.9: this part of __len__() is not implemented yet")
        return n

    def __getitem__(self, i: int):
        # TODO (A3.9): your code here
        # HINT: top = int(torch.randint(0, H - patch + 1, ())); np.flip(..., axis).copy() or torch.flip
        raise NotImplementedError("A3.9: this part of __getitem__() is not implemented yet")
        return image, mask
