"""Seeded, batch-indexed loaders and the train/validation split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.train import TensorBatches, make_loader, split_indices


def _order(loader):
    return torch.cat([y for _, y in loader]).tolist()


def test_loader_yields_whole_batches_in_a_seeded_order():
    x, y = torch.arange(50).float().unsqueeze(1), torch.arange(50)
    a = make_loader(TensorBatches(x, y), 16, shuffle=True, seed=3)
    b = make_loader(TensorBatches(x, y), 16, shuffle=True, seed=3)
    first, second = _order(a), _order(a)
    assert len(a) == 4 and [len(yb) for _, yb in a] == [16, 16, 16, 2]
    assert sorted(first) == list(range(50)) and first != second       # a new order per epoch
    assert [_order(b), _order(b)] == [first, second]                   # same seed, same orders
    assert _order(make_loader(TensorBatches(x, y), 16)) == list(range(50))
    assert len(make_loader(TensorBatches(x, y), 16, drop_last=True)) == 3


def test_generator_state_reproduces_the_next_epoch():
    x, y = torch.zeros(40, 1), torch.arange(40)
    loader = make_loader(TensorBatches(x, y), 8, shuffle=True, seed=0)
    _order(loader)
    state = loader.generator.get_state()
    expected = _order(loader)
    loader.generator.set_state(state)
    assert _order(loader) == expected


def test_transform_is_applied_per_batch():
    x, y = torch.ones(10, 3), torch.zeros(10, dtype=torch.long)
    loader = make_loader(TensorBatches(x, y), 4, transform=lambda b: (b[0] * 2, b[1]))
    assert all(torch.all(xb == 2) for xb, _ in loader)


def test_split_indices_is_disjoint_complete_and_seeded():
    tr, va = split_indices(100, 30, seed=1)
    assert len(va) == 30 and len(tr) == 70
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(100))
    assert np.array_equal(split_indices(100, 30, seed=1)[1], va)
    assert not np.array_equal(split_indices(100, 30, seed=2)[1], va)
    assert len(split_indices(100, 0.25)[1]) == 25


def test_bad_loader_and_split_settings():
    with pytest.raises(ConfigError, match="batch_size must be >= 1"):
        make_loader(TensorBatches(torch.zeros(4), torch.zeros(4)), 0)
    with pytest.raises(ConfigError, match="different lengths"):
        TensorBatches(torch.zeros(4), torch.zeros(5))
    with pytest.raises(ConfigError, match="leaves no training or no validation data"):
        split_indices(100, 100)
