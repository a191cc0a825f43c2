"""dlcc.losses: BCE, soft Dice, BCE+Dice, focal — known values, parity with torch, gradients."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlcc.errors import ConfigError, InputError
from dlcc.losses import (BCEDiceLoss, FocalLoss, SoftDiceLoss, bce_dice_loss, bce_with_logits, binary_focal_loss,
                         get_loss, soft_dice_loss)


def data(seed=0, shape=(3, 1, 5, 6)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64), (torch.rand(shape, generator=g) > 0.6).double()


def test_bce_matches_torch_and_pos_weight():
    logits, target = data()
    assert torch.allclose(bce_with_logits(logits, target), F.binary_cross_entropy_with_logits(logits, target))
    assert torch.allclose(bce_with_logits(logits, target, pos_weight=3.0),
                          F.binary_cross_entropy_with_logits(logits, target, pos_weight=torch.tensor(3.0)))
    assert torch.allclose(get_loss("bce")(logits, target), F.binary_cross_entropy_with_logits(logits, target))
    # the course's formulation: BCELoss(sigmoid(scores), y)
    assert torch.allclose(bce_with_logits(logits, target), F.binary_cross_entropy(torch.sigmoid(logits), target))


def test_bce_known_value_and_stability():
    assert bce_with_logits(torch.zeros(1, 4), torch.ones(1, 4)).item() == pytest.approx(math.log(2))
    huge = bce_with_logits(torch.tensor([[-200.0]]), torch.tensor([[1.0]]))
    assert huge.item() == pytest.approx(200.0)  # no inf: computed from logits


def test_soft_dice_known_values():
    logits = torch.zeros(1, 1, 2, 2)  # p = 0.5 everywhere
    target = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]]])
    # Σpt = 1, Σp = 2, Σt = 2 → Dice = 2/4
    assert soft_dice_loss(logits, target, smooth=0.0).item() == pytest.approx(0.5)
    assert soft_dice_loss(logits, target, smooth=1.0).item() == pytest.approx(1 - 3 / 5)
    perfect = torch.where(target > 0, 30.0, -30.0)
    assert soft_dice_loss(perfect, target, smooth=0.0).item() == pytest.approx(0.0, abs=1e-6)
    empty = torch.full((1, 1, 2, 2), -30.0)
    assert soft_dice_loss(empty, torch.zeros(1, 1, 2, 2)).item() == pytest.approx(0.0, abs=1e-6)


def test_soft_dice_is_per_image_mean():
    logits, target = data(1)
    per = soft_dice_loss(logits, target, reduction="none")
    assert per.shape == (3,)
    assert torch.allclose(SoftDiceLoss()(logits, target), per.mean())
    for i in range(3):
        assert torch.allclose(per[i], soft_dice_loss(logits[i:i + 1], target[i:i + 1]))


def test_bce_dice_is_weighted_sum():
    logits, target = data(2)
    expected = 0.3 * bce_with_logits(logits, target) + 2.0 * soft_dice_loss(logits, target)
    assert torch.allclose(BCEDiceLoss(0.3, 2.0)(logits, target), expected)
    assert torch.allclose(get_loss("bce+dice")(logits, target), bce_dice_loss(logits, target))


def test_focal_gamma0_equals_bce():
    logits, target = data(3)
    assert torch.allclose(binary_focal_loss(logits, target, gamma=0.0, alpha=None), bce_with_logits(logits, target))


def test_focal_known_values():
    x, t = torch.zeros(1, 1), torch.ones(1, 1)  # p_t = 0.5, BCE = ln 2
    assert binary_focal_loss(x, t, gamma=2.0, alpha=None).item() == pytest.approx(0.25 * math.log(2))
    assert binary_focal_loss(x, t, gamma=2.0, alpha=0.25).item() == pytest.approx(0.0625 * math.log(2))
    assert binary_focal_loss(x, 1 - t, gamma=2.0, alpha=0.25).item() == pytest.approx(0.75 * 0.25 * math.log(2))
    # a confident correct pixel is down-weighted far more than under BCE
    conf = torch.tensor([[3.0]])
    ratio = binary_focal_loss(conf, t, gamma=2.0, alpha=None) / bce_with_logits(conf, t)
    assert ratio.item() == pytest.approx((1 - torch.sigmoid(conf)).item() ** 2)


def test_focal_gradients_match_autograd_numerically():
    logits, target = data(4, (2, 1, 3, 3))
    logits.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: binary_focal_loss(z, target, 2.0, 0.25), (logits,))
    assert torch.autograd.gradcheck(lambda z: soft_dice_loss(z, target), (logits,))


def test_losses_train_a_tiny_problem():
    torch.manual_seed(0)
    target = (torch.rand(4, 1, 6, 6) > 0.7).float()
    for name in ["bce", "dice", "bce+dice", "focal"]:
        logits = torch.zeros_like(target, requires_grad=True)
        opt = torch.optim.Adam([logits], lr=0.5)  # Adam: Dice gradients are tiny per pixel
        loss_fn = get_loss(name)
        first = loss_fn(logits, target).item()
        for _ in range(30):
            opt.zero_grad()
            loss = loss_fn(logits, target)
            loss.backward()
            opt.step()
        assert loss.item() < 0.05 * first, name
        assert ((logits > 0).float() == target).all(), name


def test_loss_errors():
    with pytest.raises(InputError, match="different shapes") as err:
        bce_with_logits(torch.zeros(2, 1, 4, 4), torch.zeros(2, 4, 4))
    assert "unsqueeze" in err.value.fix
    with pytest.raises(ConfigError, match="unknown loss 'dise'") as err:
        get_loss("dise")
    assert "dice" in err.value.fix
    with pytest.raises(ConfigError, match="gamma"):
        FocalLoss(gamma=-1)(torch.zeros(1, 1), torch.zeros(1, 1))
    with pytest.raises(ConfigError, match="bad arguments"):
        get_loss("focal", gama=2)
    with pytest.raises(ConfigError, match="reduction"):
        soft_dice_loss(torch.zeros(1, 1), torch.zeros(1, 1), reduction="avg")
