"""GAN losses against their definitions: BCE with real = 1 / fake = 0, the non-saturating
generator loss, the optimal discriminator's value, conditional logits, WGAN-GP's gradient
penalty on critics whose gradient is known, and the least-squares losses."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlcc.errors import InputError
from dlcc.losses.gan import (d_loss, g_loss, gradient_penalty, lsgan_d_loss, lsgan_g_loss, pick, wgan_d_loss,
                             wgan_g_loss)


def test_d_and_g_losses_are_binary_cross_entropy():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(16, 1, generator=g) * 3, torch.randn(16, 1, generator=g) * 3
    expected_d = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                  + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    assert torch.allclose(d_loss(real, fake), expected_d, atol=1e-6)
    p = torch.sigmoid(fake.double())
    assert torch.allclose(g_loss(fake).double(), -torch.log(p).mean(), atol=1e-6)


def test_losses_at_the_optimum_and_when_d_saturates():
    # p_g = p_data: D* = 1/2 everywhere (logit 0) and L_D = 2 log 2, L_G = log 2
    zeros = torch.zeros(8)
    assert d_loss(zeros, zeros).item() == pytest.approx(2 * math.log(2))
    assert g_loss(zeros).item() == pytest.approx(math.log(2))
    # D rejects the fakes confidently: log(1 - D) saturates, -log D does not (the reason for it)
    fake = torch.full((4,), -30.0, requires_grad=True)
    g_loss(fake).backward()
    assert fake.grad.abs().min() > 0.2
    minimax = torch.full((4,), -30.0, requires_grad=True)
    torch.log1p(-torch.sigmoid(minimax)).mean().backward()     # the minimax G term log(1 - D(G(z)))
    assert minimax.grad.abs().max() < 1e-10
    assert torch.isfinite(d_loss(torch.full((3,), 200.0), torch.full((3,), -200.0)))


def test_conditional_losses_read_the_logit_of_the_class():
    logits = torch.tensor([[0.5, -1.0, 2.0], [3.0, 0.0, -2.0]])
    labels = torch.tensor([2, 0])
    assert torch.equal(pick(logits, labels), torch.tensor([2.0, 3.0]))
    assert torch.allclose(d_loss(logits, logits, labels, labels), d_loss(torch.tensor([2.0, 3.0]), torch.tensor([2.0, 3.0])))
    assert torch.allclose(g_loss(logits, labels), g_loss(torch.tensor([2.0, 3.0])))
    with pytest.raises(InputError, match="no class labels"):
        g_loss(logits)
    with pytest.raises(InputError, match="do not match"):
        pick(logits, torch.tensor([0]))


def test_gradient_penalty_of_a_linear_critic_is_exact():
    # critic(x) = w·x has gradient w at every point: penalty = (‖w‖ - 1)²
    w = torch.tensor([3.0, 4.0])                       # ‖w‖ = 5
    real, fake = torch.randn(32, 2), torch.randn(32, 2)
    penalty = gradient_penalty(lambda x: x @ w, real, fake)
    assert penalty.item() == pytest.approx(16.0)
    unit = w / 5
    assert gradient_penalty(lambda x: x @ unit, real, fake).item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_samples_between_real_and_fake_and_trains_the_critic():
    # critic(x) = ‖x‖²/2 has gradient x: the points x̂ = α·fake + (1-α)·real, so with real = 0
    # and fake = 1 (1-D) the gradient norm is α ~ U(0, 1) and E[(α - 1)²] = 1/3
    real, fake = torch.zeros(20000, 1), torch.ones(20000, 1)
    penalty = gradient_penalty(lambda x: 0.5 * (x ** 2).sum(dim=1), real, fake, torch.Generator().manual_seed(0))
    assert penalty.item() == pytest.approx(1 / 3, abs=0.01)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    gradient_penalty(lambda x: x @ w, torch.randn(8, 2), torch.randn(8, 2)).backward()
    assert torch.allclose(w.grad, 2 * (5 - 1) * w.detach() / 5)   # d/dw (‖w‖ - 1)²


def test_wgan_and_least_squares_losses():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])
    assert wgan_d_loss(real, fake, torch.tensor(0.5), lam=10).item() == pytest.approx(-0.5 - 2.0 + 5.0)
    assert wgan_g_loss(fake).item() == pytest.approx(0.5)
    assert lsgan_d_loss(torch.ones(3, 1, 4), torch.zeros(3, 1, 4)).item() == 0.0
    assert lsgan_d_loss(torch.zeros(5), torch.ones(5)).item() == pytest.approx(1.0)
    assert lsgan_g_loss(torch.tensor([0.0, 1.0])).item() == pytest.approx(0.5)
