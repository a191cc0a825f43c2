"""The controls the Fréchet distance is reported between, and scoring with a judge."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.generative.quality import collapsed, fd_monitor, fd_with_controls, judge_outputs
from dlcc.generative.sampling import balanced_labels, generate
from dlcc.models.gan import Generator
from dlcc.models.judges import MnistJudge


def test_collapsed_control_repeats_one_sample_per_class():
    real = torch.arange(40, dtype=torch.float32).view(20, 2)
    labels = torch.arange(20) % 4
    out = collapsed(real, labels, 10, 4, seed=1)
    assert out.shape == (10, 2)
    assert len({tuple(row.tolist()) for row in out}) == 4           # four distinct samples, one per class
    assert len({int(labels[(real == row).all(1)][0]) for row in out}) == 4


def test_fd_with_controls_orders_floor_gan_and_ceiling():
    rng = np.random.default_rng(0)
    ref, floor = rng.normal(size=(3000, 4)), rng.normal(size=(3000, 4))
    gan = rng.normal(loc=0.5, size=(3000, 4))
    ceiling = np.repeat(rng.normal(size=(1, 4)), 3000, axis=0)
    out = fd_with_controls(gan, ref, floor, ceiling)
    assert out["fd_floor"] < out["fd"] < out["fd_collapsed"]
    assert out["fd_ratio"] == pytest.approx(out["fd"] / out["fd_collapsed"])


def test_generate_is_seeded_balanced_and_leaves_the_mode_alone():
    torch.manual_seed(0)
    G = Generator(latent=8, num_classes=10)
    G.train()
    a, labels = generate(G, 25, 8, 10, torch.Generator().manual_seed(3), batch=10)
    b, _ = generate(G, 25, 8, 10, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == (25, 1, 28, 28) and G.training
    assert torch.equal(labels, balanced_labels(25, 10)) and labels[:12].tolist() == [*range(10), 0, 1]


def test_fd_monitor_and_judge_outputs():
    torch.manual_seed(0)
    judge = MnistJudge().eval()
    reference = torch.rand(200, 1, 28, 28) * 2 - 1
    features, labels = judge_outputs(judge, reference, batch=64)
    assert features.shape == (200, 128) and labels.shape == (200,)
    same = fd_monitor(judge, lambda n: reference[:n], reference)
    assert same() == pytest.approx(0.0, abs=1e-6)
    noise = fd_monitor(judge, lambda n: torch.zeros(n, 1, 28, 28), reference)
    assert noise() > same()
