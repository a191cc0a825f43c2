"""Pieces of the segmentation pipeline: random patches, evaluation tiles, test-time
augmentation, padding wrapper, Dice metric."""

from __future__ import annotations

import torch
from torch import nn

from dlcc.recipes._segment import PadTo, RandomPatches, d4_probs, dice_metric, eval_tiles, predict_probs


def _pair(h, w, c=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(c, h, w, generator=g)
    return image, (image[:1] > 0.5).float()


def test_random_patches_cycle_images_and_keep_alignment():
    pairs = [_pair(40, 40, seed=0), _pair(20, 30, seed=1)]       # the second is smaller than a patch
    ds = RandomPatches(pairs, patch=32, length=6)
    torch.manual_seed(0)
    for i in range(6):
        image, mask = ds[i]
        assert image.shape == (1, 32, 32) and mask.shape == (1, 32, 32)
        inside = image > 0                                       # zero-padded mask where the image was padded
        assert torch.equal(mask[inside & (mask > 0)], (image[inside & (mask > 0)] > 0.5).float())
    assert len(ds) == 6


def test_eval_tiles_whole_or_tiled():
    small, big = _pair(30, 40), _pair(70, 50)
    whole = eval_tiles([small], tile=64)
    assert len(whole) == 1 and torch.equal(whole[0][0][0], small[0])
    tiles = eval_tiles([big], tile=32)
    assert all(t.shape == (1, 1, 32, 32) and m.shape == (1, 1, 32, 32) for t, m in tiles)
    assert len(tiles) == 3 * 2                                   # 70 -> 3 tiles, 50 -> 2 tiles


def test_d4_tta_is_exact_for_an_equivariant_model():
    model = nn.Conv2d(2, 1, 1)                                   # a 1x1 conv commutes with flips and rotations
    x = torch.randn(3, 2, 8, 12)
    torch.testing.assert_close(d4_probs(model, x), torch.sigmoid(model(x)))
    image = torch.randn(2, 20, 20)
    torch.testing.assert_close(predict_probs(model, image, tile=16, overlap=4, tta=True),
                               torch.sigmoid(model(image[None]))[0], rtol=1e-5, atol=1e-6)


def test_pad_wrapper_and_dice_metric():
    net = PadTo(nn.Conv2d(1, 1, 3, padding=1), 8)
    assert net(torch.zeros(2, 1, 13, 21)).shape == (2, 1, 13, 21)
    target = torch.zeros(2, 1, 4, 4)
    target[0, 0, :2] = 1
    logits = torch.where(target > 0, 5.0, -5.0)
    assert dice_metric(logits, target).item() == 1.0             # perfect, and empty-vs-empty counts as 1
    assert dice_metric(-logits.abs(), target).item() == 0.5      # image 0 missed entirely, image 1 empty = 1
