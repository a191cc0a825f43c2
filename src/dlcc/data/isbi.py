"""ISBI 2012 EM membrane segmentation (30 labelled training slices, 30 unlabelled test slices)."""

from __future__ import annotations

import numpy as np

from dlcc.data.cache import cached_arrays
from dlcc.data.images import decode_image
from dlcc.data.resolve import ensure
from dlcc.errors import DataError


def load_isbi2012(data_dir=None) -> dict[str, np.ndarray]:
    """The ISBI 2012 EM stack.

    Returns:
        {"train_images": uint8 [30,512,512] raw TEM intensities 0..255,
         "train_labels": uint8 [30,512,512] with 1 = cell interior, 0 = membrane,
         "test_images":  uint8 [30,512,512] (the challenge never released test labels)}
        Slices are in numeric order (0, 1, ..., 29); neighbouring slices are correlated, so
        split train/validation by contiguous blocks. For a "membrane = 1" target use
        `1 - train_labels`. (The PNG labels are 255 = interior, 0 = membrane.)
    """
    files = ensure("isbi2012-em", data_dir)

    def stack(folder: str) -> np.ndarray:
        slices = []
        for i in range(30):
            rel = f"{folder}/{i}.png"
            image = decode_image(files.paths[rel], str(files.paths[rel]), mode="L")
            if image.shape != (512, 512):
                raise DataError(f"{files.paths[rel]} is {image.shape}, expected (512, 512)",
                                fix="replace it with a good copy (`dlcc data verify isbi2012-em`)")
            slices.append(image)
        return np.stack(slices)

    def build():
        return {"train_images": stack("train/image"),
                "train_labels": (stack("train/label") > 127).astype(np.uint8),
                "test_images": stack("test")}

    return cached_arrays("isbi2012-em", files.digests, build)
