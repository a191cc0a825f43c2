"""CIFAR tensors and batched augmentation (`dlcc.data.cifar_gpu`): crops and flips against
F.pad + slicing on known tensors, cutout, normalisation, seeding, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcc.data.cifar_gpu import (CIFAR10_MEAN, CIFAR10_STD, CifarBatches, check_augment, crop_flip, cutout,
                                 normalize, to_nchw_uint8)
from dlcc.errors import ConfigError, InputError


def _reference_crop_flip(x, dy, dx, flip, pad, mode):
    """The textbook version: pad every image, slice the window, mirror it."""
    padded = F.pad(x.float(), (pad,) * 4, mode="reflect" if mode == "reflect" else "constant").to(x.dtype)
    size = x.shape[-1]
    out = torch.stack([padded[b, :, dy[b]:dy[b] + size, dx[b]:dx[b] + size] for b in range(len(x))])
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


@pytest.mark.parametrize("mode", ["reflect", "zeros"])
@pytest.mark.parametrize("pad", [1, 2, 4])
def test_crop_flip_matches_pad_and_slice(mode, pad):
    g = torch.Generator().manual_seed(pad)
    x = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8, generator=g)
    dy = torch.randint(0, 2 * pad + 1, (16,), generator=g)
    dx = torch.randint(0, 2 * pad + 1, (16,), generator=g)
    flip = torch.rand(16, generator=g) < 0.5
    assert torch.equal(crop_flip(x, dy, dx, flip, pad, mode), _reference_crop_flip(x, dy, dx, flip, pad, mode))


def test_crop_flip_known_values():
    x = torch.arange(16, dtype=torch.uint8).reshape(1, 1, 4, 4)   # rows 0-3, 4-7, 8-11, 12-15
    centre = crop_flip(x, torch.tensor([1]), torch.tensor([1]), torch.tensor([False]), 1)
    assert torch.equal(centre, x)                                  # offset = pad: the image itself
    mirrored = crop_flip(x, torch.tensor([1]), torch.tensor([1]), torch.tensor([True]), 1)
    assert mirrored[0, 0, 0].tolist() == [3, 2, 1, 0]
    shifted = crop_flip(x, torch.tensor([0]), torch.tensor([0]), torch.tensor([False]), 1, "zeros")
    assert shifted[0, 0, 0].tolist() == [0, 0, 0, 0]               # the zero padding row
    assert shifted[0, 0, 1].tolist() == [0, 0, 1, 2]               # zero column, then the image
    reflected = crop_flip(x, torch.tensor([0]), torch.tensor([0]), torch.tensor([False]), 1, "reflect")
    assert reflected[0, 0, 0].tolist() == [5, 4, 5, 6]             # row 1 reflected above row 0


def test_cutout_zeroes_one_clipped_square():
    x = torch.ones(2, 3, 8, 8)
    out = cutout(x, 4, torch.tensor([4, 0]), torch.tensor([4, 0]))
    assert torch.equal(out[0, :, 2:6, 2:6], torch.zeros(3, 4, 4))
    assert out[0].sum() == 3 * (64 - 16)
    assert out[1].sum() == 3 * (64 - 4)                            # clipped at the corner: 2×2 left
    assert torch.equal(x, torch.ones(2, 3, 8, 8))                  # input untouched


def test_normalize_matches_formula_and_layout():
    x = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    out = normalize(x, channels_last=True)
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(out, (x.float() / 255 - mean) / std, rtol=1e-5, atol=1e-5)
    assert out.is_contiguous(memory_format=torch.channels_last)


def _images(n=100, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n)


def test_loader_batches_shapes_and_plain_order():
    x, y = _images(100)
    loader = CifarBatches(x, y, 32)
    batches = list(loader)
    assert len(loader) == len(batches) == 4 and [len(b[1]) for b in batches] == [32, 32, 32, 4]
    first_x, first_y = batches[0]
    assert first_x.shape == (32, 3, 32, 32) and first_x.dtype == torch.float32 and first_y.dtype == torch.int64
    assert torch.equal(first_y, torch.as_tensor(y[:32]))
    expected = normalize(to_nchw_uint8(x[:32]))
    torch.testing.assert_close(first_x, expected)                  # no augmentation: the images themselves
    assert len(CifarBatches(x, y, 32, drop_last=True)) == 3


def test_loader_is_deterministic_per_seed():
    x, y = _images(64)
    aug = {"crop": 4, "flip": "random", "cutout": 8}

    def epoch(seed):
        return [b for b in CifarBatches(x, y, 16, shuffle=True, augment=aug, seed=seed)]

    a, b, c = epoch(1), epoch(1), epoch(2)
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(a, b))
    assert not all(torch.equal(p[1], q[1]) for p, q in zip(a, c))


def test_generator_state_restores_the_next_epoch():
    x, y = _images(64)
    loader = CifarBatches(x, y, 16, shuffle=True, augment={"crop": 2}, seed=3)
    list(loader)
    state = loader.generator.get_state()
    expected = list(loader)
    loader.generator.set_state(state)
    again = list(loader)
    assert all(torch.equal(p[0], q[0]) for p, q in zip(expected, again))


def test_augmented_batch_is_a_crop_and_flip_of_its_source():
    """Every augmented image equals some crop/flip of the original with the same label."""
    x, y = _images(8)
    loader = CifarBatches(x, y, 8, shuffle=True, augment={"crop": 2, "flip": "random"}, seed=0)
    xb, yb = next(iter(loader))
    src = normalize(to_nchw_uint8(x))
    for img, label in zip(xb, yb):
        candidates = [i for i in range(8) if y[i] == label]
        found = False
        for i in candidates:
            for dy in range(5):
                for dx in range(5):
                    for flip in (False, True):
                        ref = crop_flip(src[i:i + 1], torch.tensor([dy]), torch.tensor([dx]),
                                        torch.tensor([flip]), 2)[0]
                        found = found or torch.allclose(ref, img)
        assert found


def test_alternate_flip_mirrors_each_image_every_other_epoch():
    x, y = _images(16)
    loader = CifarBatches(x, y, 16, augment={"crop": 0, "flip": "alternate"})   # no shuffle: fixed order
    e0, e1, e2 = (next(iter(loader))[0] for _ in range(3))
    torch.testing.assert_close(e1, e0.flip(-1))
    torch.testing.assert_close(e2, e0)
    plain = normalize(to_nchw_uint8(x))
    flipped = [not torch.allclose(e0[i], plain[i]) for i in range(16)]
    assert 0 < sum(flipped) < 16                                   # a random half starts mirrored


def test_bad_input_is_rejected_with_a_fix():
    x, y = _images(10)
    with pytest.raises(InputError, match="uint8"):
        CifarBatches(x.astype(np.float32), y, 4)
    with pytest.raises(InputError, match="labels"):
        CifarBatches(x, y[:5], 4)
    with pytest.raises(ConfigError, match="batch_size"):
        CifarBatches(x, y, 0)
    with pytest.raises(ConfigError, match="unknown augmentation"):
        check_augment({"crops": 4})
    with pytest.raises(ConfigError, match="flip"):
        check_augment({"flip": "vertical"})
    with pytest.raises(ConfigError, match="pad_mode"):
        check_augment({"pad_mode": "wrap"})
    with pytest.raises(ConfigError, match="cutout"):
        check_augment({"cutout": -1})
    with pytest.raises(InputError, match="square"):
        CifarBatches(np.zeros((4, 3, 32, 30), np.uint8), np.zeros(4), 2)
