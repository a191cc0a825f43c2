"""Per-image SimCLR augmentations on batches (task: two views)."""

from __future__ import annotations

import torch

from dlcc.contrastive import SimCLRAugment, TwoViews, colour_jitter, random_greyscale, resized_crop_flip


def _images(n=8, c=3, seed=0):
    return torch.randint(0, 256, (n, c, 32, 32), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def test_shapes_and_normalisation():
    x = _images()
    v1, v2 = TwoViews()(x)
    assert v1.shape == v2.shape == (8, 3, 32, 32) and v1.dtype == torch.float32
    assert not torch.equal(v1, v2)                       # two independent draws
    plain = SimCLRAugment(crop_scale=(1.0, 1.0), ratio=(1.0, 1.0), flip=0.0, jitter=0.0, p_grey=0.0)
    expected = (x.float() / 255 - torch.tensor(plain.mean).view(1, 3, 1, 1)) / torch.tensor(plain.std).view(1, 3, 1, 1)
    assert torch.allclose(plain(x), expected, atol=1e-4)  # full crop, nothing else: the image itself


def test_each_image_gets_its_own_crop():
    x = _images(1).float().repeat(16, 1, 1, 1) / 255      # 16 copies of one image
    out = resized_crop_flip(x, (0.2, 0.5), (0.75, 1.33), 0.5, torch.Generator().manual_seed(0))
    distinct = {tuple(o.flatten()[:50].tolist()) for o in out}
    assert len(distinct) > 8


def test_full_crop_with_flip_mirrors():
    x = torch.rand(4, 3, 32, 32)
    out = resized_crop_flip(x, (1.0, 1.0), (1.0, 1.0), 1.0)
    assert torch.allclose(out, x.flip(3), atol=1e-5)


def test_seeded_generator_repeats():
    x = _images()
    a = SimCLRAugment()(x, torch.Generator().manual_seed(3))
    b = SimCLRAugment()(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_greyscale_and_jitter_probabilities():
    x = torch.rand(6, 3, 8, 8)
    grey = random_greyscale(x, 1.0)
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    assert torch.equal(random_greyscale(x, 0.0), x)
    assert torch.equal(colour_jitter(x, 0.5, 0.0), x)
    jittered = colour_jitter(x, 0.5, 1.0, torch.Generator().manual_seed(0))
    assert jittered.min() >= 0 and jittered.max() <= 1 and not torch.allclose(jittered, x)


def test_one_channel_images():
    x = _images(4, c=1)
    v = SimCLRAugment(mean=(0.0,), std=(1.0,))(x)
    assert v.shape == (4, 1, 32, 32) and 0 <= float(v.min()) and float(v.max()) <= 1
