"""The linear probe (task: linear evaluation), regularisation chosen on validation only."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcc.contrastive import LinearProbe, extract_features, probe_accuracy
from dlcc.errors import ConfigError


def _blobs(n, seed, k=3, d=5, spread=0.5):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=torch.Generator().manual_seed(99)) * 3
    y = torch.randint(0, k, (n,), generator=g)
    return centres[y] + spread * torch.randn(n, d, generator=g), y


def test_probe_separates_blobs():
    x, y = _blobs(300, 0)
    tx, ty = _blobs(200, 1)
    assert LinearProbe(1e-4).fit(x, y).score(tx, ty) > 0.95
    result = probe_accuracy(x, y, tx, ty, weight_decays=(1e-4, 1e-2, 10.0))
    assert result["accuracy"] > 0.95
    assert set(result["val_by_weight_decay"]) == {1e-4, 1e-2, 10.0}


def test_choice_never_depends_on_the_test_split():
    x, y = _blobs(200, 0, spread=2.0)
    tx, ty = _blobs(100, 1, spread=2.0)
    a = probe_accuracy(x, y, tx, ty, weight_decays=(1e-5, 1e-1, 30.0))
    b = probe_accuracy(x, y, tx, ty[torch.randperm(len(ty))], weight_decays=(1e-5, 1e-1, 30.0))
    assert a["weight_decay"] == b["weight_decay"] and a["val_accuracy"] == b["val_accuracy"]


def test_too_few_examples_for_a_validation_split():
    x, y = _blobs(3, 0)
    with pytest.raises(ConfigError, match="validation split"):
        probe_accuracy(x, y, x, y, val_fraction=0.1)


def test_extract_features_restores_mode_and_batches():
    enc = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.BatchNorm1d(4))
    enc.train()
    images = torch.rand(10, 3, 2, 2)
    h = extract_features(enc, images, lambda t: t * 2, batch_size=3)
    assert h.shape == (10, 4) and enc.training
    enc.eval()
    assert torch.allclose(h, enc(images * 2).detach())
