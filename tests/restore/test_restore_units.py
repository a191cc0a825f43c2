"""dlcc.restore's pieces: networks' shapes, degradations, metrics against scikit-image,
patches, baselines, and the checks that turn bad σ / scale / crop values into clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.restore import (DnCNN, ESPCN, SRCNN, add_noise, bicubic_up, check_scale, check_sigma, downscale, psnr,
                          ssim)
from dlcc.restore.baselines import DENOISERS, choose_parameters, denoise
from dlcc.restore.data import LowResPatches, NoisyPatches, center_crop, check_crop, random_patches


def _images(n=2, size=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    smooth = torch.nn.functional.avg_pool2d(torch.rand(n, 1, size + 4, size + 4, generator=g), 5, 1)
    return smooth.clamp(0, 1)


@pytest.mark.parametrize("depth, width", [(3, 4), (5, 8)])
def test_dncnn_keeps_the_shape_and_is_residual(depth, width):
    net = DnCNN(depth, width).eval()
    x = torch.rand(2, 1, 17, 23)
    assert net(x).shape == x.shape
    for p in net.body[-1].parameters():        # a body that outputs zero leaves the image as it is
        torch.nn.init.zeros_(p)
    assert torch.equal(net(x), x)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules()) == depth - 2


@pytest.mark.parametrize("kind", [ESPCN, SRCNN])
@pytest.mark.parametrize("scale", [2, 4])
def test_super_resolution_nets_upscale_by_the_scale(kind, scale):
    net = kind(scale, width=8)
    assert net(torch.rand(1, 1, 6, 10)).shape == (1, 1, 6 * scale, 10 * scale)


def test_espcn_uses_pixel_shuffle_and_its_skip_is_bicubic():
    net = ESPCN(2, width=8, skip=True)
    assert isinstance(net.shuffle, torch.nn.PixelShuffle) and net.features[-1].out_channels == 4
    for p in net.features[-1].parameters():
        torch.nn.init.zeros_(p)
    x = torch.rand(1, 1, 8, 8)
    assert torch.allclose(net(x), bicubic_up(x, 2))


@pytest.mark.parametrize("mid_layers, convs", [(0, 2), (1, 3), (3, 5)])
def test_espcn_mid_layers_add_half_width_convolutions(mid_layers, convs):
    net = ESPCN(2, width=8, mid_layers=mid_layers)
    layers = [m for m in net.features if isinstance(m, torch.nn.Conv2d)]
    assert len(layers) == convs and layers[-1].out_channels == 4
    assert all(m.out_channels == 4 for m in layers[1:-1]) and layers[0].out_channels == 8
    assert net(torch.rand(1, 1, 6, 10)).shape == (1, 1, 12, 20)


@pytest.mark.parametrize("bad", [0, 3, 8, -2, True, 2.5])
def test_bad_scales_are_refused(bad):
    with pytest.raises(ConfigError, match="scale"):
        check_scale(bad)
    with pytest.raises(ConfigError):
        ESPCN(bad)


@pytest.mark.parametrize("bad", [0, -5, 100.5, 500, float("nan")])
def test_bad_sigmas_are_refused(bad):
    with pytest.raises(ConfigError, match="0-255 scale"):
        check_sigma(bad)


def test_noise_has_the_requested_sigma_and_is_reproducible():
    clean = torch.full((1, 200, 200), 0.5)
    a = add_noise(clean, 25, torch.Generator().manual_seed(3))
    b = add_noise(clean, 25, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert abs(float((a - clean).std()) * 255 - 25) < 0.5


def test_downscale_shape_and_a_size_that_is_not_a_multiple():
    x = _images(1, 16)
    assert downscale(x, 4).shape == (1, 1, 4, 4)
    with pytest.raises(ConfigError, match="cannot be downscaled x4"):
        downscale(x[..., :15, :], 4)


def test_psnr_and_ssim_match_scikit_image():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(0)
    a = rng.random((40, 53))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
    assert psnr(a, b) == pytest.approx(metrics.peak_signal_noise_ratio(a, b, data_range=1), abs=1e-9)
    ref = metrics.structural_similarity(a, b, data_range=1, gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False)
    assert ssim(a, b) == pytest.approx(ref, abs=1e-9)
    assert ssim(a, a) == pytest.approx(1.0) and psnr(a, a) == float("inf")


def test_patches_fit_and_a_crop_larger_than_the_image_is_refused():
    images = _images(3, 32)
    torch.manual_seed(0)
    assert random_patches(images, 5, 16).shape == (5, 1, 16, 16)
    assert center_crop(images, 10).shape == (3, 1, 10, 10)
    noisy, clean = NoisyPatches(images, 16, 25, 8)[[0, 1, 2]]
    assert noisy.shape == clean.shape == (3, 1, 16, 16)
    lr, hr = LowResPatches(images, 16, 4, 8)[[0, 1]]
    assert lr.shape == (2, 1, 4, 4) and hr.shape == (2, 1, 16, 16)
    with pytest.raises(ConfigError, match="larger than the images"):
        check_crop(33, images)
    with pytest.raises(ConfigError, match="larger than the images"):
        NoisyPatches(images, 64, 25, 8)
    with pytest.raises(ConfigError, match="not a multiple of the scale"):
        LowResPatches(images, 18, 4, 8)


def test_filters_denoise_and_their_parameter_is_chosen_by_psnr():
    clean = _images(1, 64)[0, 0].double().numpy()
    noisy = add_noise(torch.from_numpy(clean)[None], 25, torch.Generator().manual_seed(0))[0].numpy()
    chosen = choose_parameters([(clean, noisy)], 25, ["gaussian", "median"])
    for name, row in chosen.items():
        assert row["parameter"] in DENOISERS[name].grid
        assert max(row["psnr"].values()) == row["psnr"][str(row["parameter"])]
        assert psnr(clean, denoise(name, noisy, row["parameter"], 25)) > psnr(clean, np.clip(noisy, 0, 1)) + 2


def test_self_ensemble_of_a_convolution_is_the_convolution_with_its_symmetrised_kernel():
    import torch.nn.functional as F

    from dlcc.restore.evaluate import restore_image

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False).eval()
    x = torch.rand(1, 9, 11)
    k = conv.weight.detach()
    views = [torch.rot90(k.flip(-1) if f else k, t, dims=(-2, -1)) for f in (False, True) for t in range(4)]
    symmetric = torch.stack(views).mean(0)
    expected = np.clip(F.conv2d(x[None], symmetric, padding=1)[0, 0].numpy(), 0, 1)
    np.testing.assert_allclose(restore_image(conv, x, self_ensemble=True), expected, atol=1e-6)
    np.testing.assert_allclose(restore_image(conv, x), np.clip(conv(x[None])[0, 0].detach().numpy(), 0, 1), atol=1e-6)


def test_scoring_the_plain_model_and_its_self_ensemble_costs_eight_passes():
    from dlcc.restore.evaluate import restore_views

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 1, 3, padding=1).eval()
    seen = []
    conv.register_forward_hook(lambda module, args, out: seen.append(args[0].shape))
    x = torch.rand(1, 9, 11)
    views = restore_views(conv, x, self_ensemble=True)
    assert len(seen) == 8 and sorted(views) == ["model", "model_x8"]
    assert seen.count((1, 1, 9, 11)) == 4 and seen.count((1, 1, 11, 9)) == 4   # 4 views turned a quarter
    np.testing.assert_allclose(views["model"], np.clip(conv(x[None])[0, 0].detach().numpy(), 0, 1), atol=1e-7)
    seen.clear()
    assert sorted(restore_views(conv, x)) == ["model"] and len(seen) == 1
