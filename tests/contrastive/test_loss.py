"""NT-Xent against a direct loop over the 2B anchors (task: contrastive loss)."""

from __future__ import annotations

import math

import pytest
import torch

from dlcc.contrastive import nt_xent, positive_accuracy
from dlcc.errors import ConfigError


def loop_nt_xent(z1: torch.Tensor, z2: torch.Tensor, tau: float) -> float:
    """The SimCLR paper's definition, one anchor at a time, in float64."""
    z = torch.cat([z1, z2]).double()
    z = z / z.norm(dim=1, keepdim=True)
    b, total = len(z1), 0.0
    for i in range(2 * b):
        partner = i + b if i < b else i - b
        denom = sum(math.exp(float(z[i] @ z[k]) / tau) for k in range(2 * b) if k != i)
        total += -math.log(math.exp(float(z[i] @ z[partner]) / tau) / denom)
    return total / (2 * b)


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("b,d", [(1, 3), (4, 8), (7, 5)])
def test_matches_the_loop_definition(tau, b, d):
    g = torch.Generator().manual_seed(b * 10 + d)
    z1, z2 = torch.randn(b, d, generator=g), torch.randn(b, d, generator=g)
    assert float(nt_xent(z1, z2, tau)) == pytest.approx(loop_nt_xent(z1, z2, tau), rel=1e-5, abs=1e-6)


def test_scale_invariant_and_symmetric():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    base = nt_xent(z1, z2, 0.3)
    assert torch.allclose(nt_xent(3 * z1, 0.5 * z2, 0.3), base, atol=1e-6)   # cosine similarity
    assert torch.allclose(nt_xent(z2, z1, 0.3), base, atol=1e-6)


def test_aligned_views_beat_random_ones_and_lower_tau_sharpens():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(16, 32, generator=g)
    aligned, shuffled = nt_xent(z, z + 0.01 * torch.randn(16, 32, generator=g)), nt_xent(z, z.roll(1, 0))
    assert aligned < shuffled
    assert nt_xent(z, z, 0.1) < nt_xent(z, z, 1.0)
    assert float(positive_accuracy(z, z)) == 1.0


def test_gradient_flows_to_both_views():
    z1, z2 = torch.randn(3, 4, requires_grad=True), torch.randn(3, 4, requires_grad=True)
    nt_xent(z1, z2).backward()
    assert z1.grad.abs().sum() > 0 and z2.grad.abs().sum() > 0


def test_bad_temperature_and_shapes():
    z = torch.randn(2, 3)
    with pytest.raises(ConfigError, match="temperature"):
        nt_xent(z, z, 0.0)
    with pytest.raises(ValueError, match="same shape"):
        nt_xent(z, torch.randn(3, 3))
