"""Contrastive U-Net encoder pretraining and few-label fine-tuning (task: segmentation)."""

from __future__ import annotations

import pytest
import torch

from dlcc.contrastive.segment import UNetEncoder, dice, finetune, label_curve, pretrain_encoder, random_crops
from dlcc.errors import InputError
from dlcc.models import UNet


def _pairs(n, size=32, seed=0):
    """Bright discs on a dark background: image [1, H, W] in [0, 1], mask = the disc."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    out = []
    for _ in range(n):
        cy, cx = torch.randint(8, size - 8, (2,), generator=g).tolist()
        mask = (((yy - cy) ** 2 + (xx - cx) ** 2) < 36).float()[None]
        out.append(((0.2 + 0.6 * mask + 0.05 * torch.rand(1, size, size, generator=g)).clamp(0, 1), mask))
    return out


def test_encoder_shares_the_unet_and_pretraining_moves_it():
    torch.manual_seed(0)
    unet = UNet(1, 1, depth=2, width=4)
    enc = UNetEncoder(unet)
    assert enc.out_features == 16 and enc(torch.rand(3, 1, 32, 32)).shape == (3, 16)
    before = unet.inc[0].weight.detach().clone()
    images = torch.randint(0, 256, (3, 1, 48, 48), dtype=torch.uint8)
    info = pretrain_encoder(enc, images, steps=3, crop=16, batch=4)
    assert info["steps"] == 3 and info["loss"] == info["loss"]
    assert not torch.equal(before, unet.inc[0].weight)


def test_random_crops_and_too_large_crop():
    images = torch.arange(2 * 10 * 10).view(2, 1, 10, 10)
    crops = random_crops(images, 4, 5, torch.Generator().manual_seed(0))
    assert crops.shape == (5, 1, 4, 4)
    with pytest.raises(InputError, match="larger than the images"):
        random_crops(images, 11, 1)


def test_finetune_learns_discs_and_label_curve_rows():
    pairs, test = _pairs(4), _pairs(2, seed=1)
    torch.manual_seed(0)
    unet = UNet(1, 1, depth=2, width=4)
    start = dice(unet, test)
    finetune(unet, pairs, steps=30, patch=32, batch=4, lr=1e-2)
    assert dice(unet, test) > max(start, 0.5)

    def make():
        torch.manual_seed(0)
        return UNet(1, 1, depth=2, width=4)

    rows = label_curve(make, pairs, test, [1, 2], steps=2, pretrained=make().state_dict(), patch=32, batch=2)
    assert [(r["labelled"], r["init"]) for r in rows] == [(1, "scratch"), (1, "pretrained"), (2, "scratch"),
                                                          (2, "pretrained")]
    with pytest.raises(InputError, match="labelled images"):
        label_curve(make, pairs, test, [5], steps=1, pretrained=None)
