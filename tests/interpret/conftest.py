"""Small real models for the attribution tests: a CNN trained for a few seconds on
scikit-learn's digits (8×8 grey, upsampled to 16×16 so windows and Grad-CAM have room)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn


def small_cnn(channels: int = 1, classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(channels, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(64, classes))


@pytest.fixture(scope="session")
def digits():
    """(x [1797, 1, 16, 16] in [0, 1], y [1797])."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32)[:, None]
    return F.interpolate(x, size=16, mode="bilinear", align_corners=False).clamp(0, 1), torch.tensor(d.target)


@pytest.fixture(scope="session")
def trained_cnn(digits):
    """A small CNN trained on 1,500 digits (test accuracy ~0.95 on the other 297), in eval mode."""
    x, y = digits
    torch.manual_seed(0)
    model = small_cnn()
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(4):
        for idx in torch.randperm(1500, generator=g).split(50):
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    import tiny_runs

    return tiny_runs.fast_run(tmp_path_factory.mktemp("runs") / "fast")
