"""The GAN networks: the course's layer sizes and parameter counts, PixelShuffle in 1-D,
conditioning, and clear errors for wrong inputs."""

from __future__ import annotations

import pytest
import torch

from dlcc.errors import ConfigError, InputError
from dlcc.models.cyclegan1d import LeadTranslator, PatchDiscriminator1d
from dlcc.models.gan import Discriminator, Generator
from dlcc.models.gan1d import BeatDiscriminator, BeatGenerator, PixelShuffle1d


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_course_generator_and_discriminator_sizes():
    # COURSE-SPEC §5: G ≈ 1.65 M and D ≈ 1.64 M parameters for 28x28x1
    G, D = Generator(), Discriminator()
    assert n_params(G) == 1_654_121 and n_params(D) == 1_641_249
    x = G(torch.randn(5, 64))
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1      # tanh
    assert D(x).shape == (5, 1)


def test_conditional_networks_take_labels():
    G, D = Generator(num_classes=10), Discriminator(num_outputs=10)
    labels = torch.tensor([0, 3, 9])
    assert G(torch.randn(3, 64), labels).shape == (3, 1, 28, 28)
    assert D(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    P = Discriminator(num_classes=10, conditioning="projection")
    x = torch.randn(3, 1, 28, 28)
    P.eval()
    # the projection term: the same image scores differently for different classes
    assert not torch.allclose(P(x, labels), P(x, torch.tensor([1, 1, 1])))


def test_conditioning_errors_are_clear():
    with pytest.raises(InputError, match="needs class labels"):
        Generator(num_classes=10)(torch.randn(2, 64))
    with pytest.raises(InputError, match="unconditional"):
        Generator()(torch.randn(2, 64), torch.tensor([1, 2]))
    with pytest.raises(InputError, match=r"0\.\.9"):
        Generator(num_classes=10)(torch.randn(2, 64), torch.tensor([1, 10]))
    with pytest.raises(InputError, match="one label per sample"):
        Generator(num_classes=10)(torch.randn(2, 64), torch.tensor([1]))
    with pytest.raises(ConfigError, match="divisible by 4"):
        Discriminator(30, 30)
    with pytest.raises(ConfigError, match="norm="):
        Discriminator(norm="group")


def test_pixel_shuffle_1d_orders_samples_like_pixel_shuffle():
    x = torch.arange(2 * 6 * 5, dtype=torch.float32).view(2, 6, 5)
    y = PixelShuffle1d(3)(x)
    assert y.shape == (2, 2, 15)
    for c in range(2):
        for pos in range(5):
            for i in range(3):      # output sample pos*r + i of channel c = input channel c*r + i at pos
                assert y[1, c, pos * 3 + i] == x[1, c * 3 + i, pos]


def test_beat_networks_and_translator_shapes():
    G, D = BeatGenerator(), BeatDiscriminator(num_outputs=2)
    beats = G(torch.randn(4, 64), torch.tensor([0, 1, 0, 1]))
    assert beats.shape == (4, 1, 256) and D(beats).shape == (4, 2)
    T, P = LeadTranslator(), PatchDiscriminator1d()
    assert T(torch.randn(2, 1, 512)).shape == (2, 1, 512)
    assert P(torch.randn(2, 1, 512)).shape == (2, 1, 32)
    with pytest.raises(InputError, match="divisible by 4"):
        T(torch.randn(2, 1, 510))
