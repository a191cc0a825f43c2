"""Small problems shared by the training tests (imported as tests.train.helpers)."""

from __future__ import annotations

import torch
from torch import nn

from dlcc.train import TensorBatches, make_loader


def blobs(n: int = 512, d: int = 8, classes: int = 3, seed: int = 0):
    """A linearly separable-ish classification problem: X float32 [n, d], y int64 [n]."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, d, generator=g) * 2
    y = torch.randint(0, classes, (n,), generator=g)
    x = centers[y] + torch.randn(n, d, generator=g)
    return x, y


def loaders(n=512, batch_size=32, seed=0, shuffle=True):
    x, y = blobs(n, seed=seed)
    train = make_loader(TensorBatches(x[: n * 3 // 4], y[: n * 3 // 4]), batch_size, shuffle=shuffle, seed=seed)
    val = make_loader(TensorBatches(x[n * 3 // 4:], y[n * 3 // 4:]), 64)
    return train, val


def small_model(seed: int = 0, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    layers = [nn.Linear(8, 16), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(16, 3))
    return nn.Sequential(*layers)


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
