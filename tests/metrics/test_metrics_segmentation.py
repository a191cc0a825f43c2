"""Dice and IoU at threshold 0.5: hand-computed values, empty masks, logits, numpy input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import InputError
from dlcc.metrics import binarize, dice_per_image, iou_per_image, mean_dice, mean_iou


def masks():
    # image 0: pred {a, b, c}, target {b, c, d}  → |P∩T| = 2, Dice = 4/6, IoU = 2/4
    # image 1: perfect; image 2: both empty; image 3: prediction empty, target not
    pred = torch.tensor([[0.9, 0.8, 0.6, 0.2],
                         [0.7, 0.1, 0.0, 0.0],
                         [0.1, 0.4, 0.49, 0.0],
                         [0.0, 0.0, 0.3, 0.2]])
    target = torch.tensor([[0, 1, 1, 1],
                           [1, 0, 0, 0],
                           [0, 0, 0, 0],
                           [0, 1, 0, 0]], dtype=torch.float32)
    return pred, target


def test_dice_and_iou_hand_values():
    pred, target = masks()
    assert torch.allclose(dice_per_image(pred, target), torch.tensor([4 / 6, 1.0, 1.0, 0.0], dtype=torch.float64))
    assert torch.allclose(iou_per_image(pred, target), torch.tensor([0.5, 1.0, 1.0, 0.0], dtype=torch.float64))
    assert mean_dice(pred, target) == pytest.approx((4 / 6 + 2) / 4)
    assert mean_iou(pred, target) == pytest.approx(2.5 / 4)


def test_empty_masks_can_be_skipped():
    pred, target = masks()
    d = dice_per_image(pred, target, empty=float("nan"))
    assert torch.isnan(d[2]) and not torch.isnan(d[[0, 1, 3]]).any()
    assert mean_dice(pred, target, empty=float("nan")) == pytest.approx((4 / 6 + 1 + 0) / 3)
    assert np.isnan(mean_dice(torch.zeros(2, 3), torch.zeros(2, 3), empty=float("nan")))


def test_threshold_is_inclusive_and_configurable():
    pred = torch.tensor([[0.5, 0.49]])
    assert binarize(pred).tolist() == [[True, False]]
    assert dice_per_image(pred, torch.tensor([[1.0, 1.0]]), threshold=0.4).item() == 1.0


def test_from_logits_equals_sigmoid_then_threshold():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 1, 8, 8, generator=g)
    target = (torch.rand(5, 1, 8, 8, generator=g) > 0.5).float()
    for t in (0.3, 0.5, 0.8):
        assert torch.equal(dice_per_image(logits, target, t, from_logits=True),
                           dice_per_image(torch.sigmoid(logits), target, t))


def test_dice_iou_relation_and_numpy_input():
    g = torch.Generator().manual_seed(1)
    p, t = torch.rand(6, 10, 10, generator=g), (torch.rand(6, 10, 10, generator=g) > 0.5).float()
    d, j = dice_per_image(p, t), iou_per_image(p, t)
    assert torch.allclose(d, 2 * j / (1 + j))
    assert torch.allclose(dice_per_image(p.numpy(), t.numpy()), d)


def test_shape_errors():
    with pytest.raises(InputError, match="different shapes"):
        dice_per_image(torch.zeros(2, 1, 4, 4), torch.zeros(2, 4, 4))
    with pytest.raises(InputError, match="batch"):
        iou_per_image(torch.zeros(4), torch.zeros(4))
