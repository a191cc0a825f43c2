"""Wrap numpy arrays as a torch Dataset (the only module of dlcc.data that imports torch)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from dlcc.errors import InputError


class ArrayDataset(Dataset):
    """Index several equally long arrays together: `ds[i] -> (a[i], b[i], ...)` as tensors.

    Floating arrays become float32 tensors, signed integer arrays int64 (what losses expect);
    uint8 (raw images) and bool stay as they are, so a uint8 CIFAR array is not blown up 8x. Arrays are converted once, up front; `transform`, if given, is applied to the
    first item (the input) on every access, e.g. a torchvision augmentation.

    Example:
        x, y = load_mnist()["train"]
        ds = ArrayDataset(x[:, None] / 255.0, y)   # ds[0] -> (float32 [1,28,28], int64 [])
    """

    def __init__(self, *arrays, transform: Callable | None = None):
        if not arrays:
            raise InputError("ArrayDataset needs at least one array", fix="ArrayDataset(x, y)")
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            shapes = ", ".join(str(tuple(np.shape(a))) for a in arrays)
            raise InputError(f"ArrayDataset arrays differ in length: {shapes}",
                             fix="pass arrays with the same first dimension")
        self.tensors = tuple(_to_tensor(a) for a in arrays)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index):
        items = [t[index] for t in self.tensors]
        if self.transform is not None:
            items[0] = self.transform(items[0])
        return tuple(items) if len(items) > 1 else items[0]


def _to_tensor(array) -> torch.Tensor:
    tensor = torch.as_tensor(np.ascontiguousarray(array))
    if tensor.is_floating_point():
        return tensor.float()
    if tensor.dtype in (torch.bool, torch.uint8):
        return tensor
    return tensor.long()
