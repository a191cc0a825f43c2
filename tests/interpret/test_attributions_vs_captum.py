"""The hand-written attributions equal captum's on the same inputs within 1e-5 (same
baseline, steps, noise seed), on a trained CNN and real digits."""

from __future__ import annotations

import pytest
import torch

from dlcc.interpret import gradcam, integrated_gradients, occlusion, saliency, smoothgrad

captum_attr = pytest.importorskip("captum.attr")
ATOL = 1e-5


@pytest.fixture
def batch(digits, trained_cnn):
    x = digits[0][1500:1506].clone()
    target = trained_cnn(x).argmax(1)
    return x, target


def test_saliency(trained_cnn, batch):
    x, t = batch
    ref = captum_attr.Saliency(trained_cnn).attribute(x, target=t, abs=True)
    torch.testing.assert_close(saliency(trained_cnn, x, t), ref, rtol=0, atol=ATOL)


def test_smoothgrad_same_noise_seed(trained_cnn, batch):
    x, t = batch
    torch.manual_seed(7)
    ref = captum_attr.NoiseTunnel(captum_attr.Saliency(trained_cnn)).attribute(
        x, nt_type="smoothgrad", nt_samples=10, stdevs=0.15, target=t, abs=False)
    mine = smoothgrad(trained_cnn, x, t, samples=10, noise=0.15, batch_size=16,
                      generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(mine, ref, rtol=0, atol=ATOL)


@pytest.mark.parametrize("rule", ["gausslegendre", "riemann_middle", "riemann_right"])
def test_integrated_gradients(trained_cnn, batch, rule):
    x, t = batch
    baseline = torch.full_like(x, 0.1)
    ref = captum_attr.IntegratedGradients(trained_cnn).attribute(x, baselines=baseline, target=t, n_steps=24,
                                                                   method=rule)
    mine = integrated_gradients(trained_cnn, x, t, baseline=baseline, steps=24, rule=rule, batch_size=30)
    torch.testing.assert_close(mine, ref, rtol=0, atol=ATOL)


def test_gradcam_on_the_last_conv(trained_cnn, batch):
    x, t = batch
    layer = trained_cnn[4]
    ref = captum_attr.LayerGradCam(trained_cnn, layer).attribute(x, target=t, relu_attributions=True)
    coarse = gradcam(trained_cnn, x, t, layer="4", upsample=False)
    torch.testing.assert_close(coarse, ref, rtol=0, atol=ATOL)
    up = captum_attr.LayerAttribution.interpolate(ref, (16, 16), interpolate_mode="bilinear")
    torch.testing.assert_close(gradcam(trained_cnn, x, t), up, rtol=0, atol=ATOL)   # default: last conv


def test_occlusion(trained_cnn, batch):
    x, t = batch
    ref = captum_attr.Occlusion(trained_cnn).attribute(x, target=t, sliding_window_shapes=(1, 4, 4),
                                                      strides=(1, 2, 2), baselines=0.0)
    torch.testing.assert_close(occlusion(trained_cnn, x, t, window=(4, 4), stride=(2, 2), batch_size=40), ref,
                               rtol=0, atol=ATOL)
