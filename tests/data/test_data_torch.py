"""ArrayDataset wraps numpy arrays for torch DataLoaders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.data import ArrayDataset
from dlcc.errors import InputError


def test_array_dataset_types_and_loader():
    x = np.random.default_rng(0).random((10, 1, 4, 4))  # float64 -> float32
    y = np.arange(10, dtype=np.int32)                    # int32 -> int64
    ds = ArrayDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert xi.dtype == torch.float32 and xi.shape == (1, 4, 4) and yi.dtype == torch.int64
    assert torch.allclose(xi.double(), torch.from_numpy(x[3]), atol=1e-6) and int(yi) == 3
    batch_x, batch_y = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch_x.shape == (4, 1, 4, 4) and batch_y.tolist() == [0, 1, 2, 3]


def test_array_dataset_keeps_uint8_and_applies_transform():
    images = np.zeros((3, 8, 8, 3), np.uint8)
    ds = ArrayDataset(images, np.zeros(3, np.int64), transform=lambda t: t.permute(2, 0, 1).float() / 255)
    assert ds.tensors[0].dtype == torch.uint8
    assert ds[0][0].shape == (3, 8, 8)
    assert ArrayDataset(images)[1].shape == (8, 8, 3)  # one array -> the item itself


def test_array_dataset_length_mismatch():
    with pytest.raises(InputError, match="differ in length"):
        ArrayDataset(np.zeros(3), np.zeros(4))
