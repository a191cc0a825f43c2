"""The airbench-style fast CIFAR net and its whitening initialisation."""

from __future__ import annotations

import pytest
import torch

from dlcc.errors import ConfigError, InputError
from dlcc.models import CifarFastNet, count_params, flip_tta, whiten_init_


def correlated_images(n=64, seed=0):
    """Smooth random images: neighbouring pixels and channels strongly correlated, like photos."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(n, 1, 8, 8, generator=g)
    x = torch.nn.functional.interpolate(base, size=(16, 16), mode="bilinear", align_corners=False)
    colour = torch.tensor([1.0, 0.8, 0.6]).view(1, 3, 1, 1)
    return x * colour + 0.2 * torch.randn(n, 3, 16, 16, generator=g) + 0.5


def test_params_by_formula():
    def conv(ci, co):
        return ci * co * 9

    whiten = 24 * 3 * 2 * 2 + 24
    groups = sum(conv(ci, co) + conv(co, co) + 4 * co for ci, co in [(24, 64), (64, 256), (256, 256)])
    m = CifarFastNet()
    assert count_params(m) == whiten + groups + 256 * 10 == 1_972_792
    # frozen: the whitening weights and the BN scales
    assert count_params(m, trainable_only=True) == count_params(m) - 24 * 12 - 2 * (64 + 256 + 256)


def test_forward_shape_and_channels_last_match():
    torch.manual_seed(0)
    m = CifarFastNet(widths=(16, 32, 32)).eval()
    x = torch.randn(4, 3, 32, 32)
    ref = m(x)
    assert ref.shape == (4, 10)
    m_cl = m.to(memory_format=torch.channels_last)
    out = m_cl(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(ref, out, atol=1e-5)


def test_identity_init_of_group_convs():
    m = CifarFastNet(widths=(16, 32, 32))
    w = m.groups[0].conv1.weight  # 24 -> 16: the 16 filters pass input channels 0..15 through
    assert torch.equal(w[:16, :16, 1, 1], torch.eye(16))
    assert w[:16, :16].abs().sum() == 16


def test_whiten_init_decorrelates_patches():
    images = correlated_images()
    conv = torch.nn.Conv2d(3, 24, 2, bias=True)
    eig = whiten_init_(conv, images, eps=1e-6)
    assert eig.shape == (12,) and torch.all(eig[:-1] >= eig[1:])  # descending
    with torch.no_grad():
        y = conv(images)  # [N, 24, 15, 15]
    feats = y[:, :12].permute(0, 2, 3, 1).reshape(-1, 12).double()
    assert feats.mean(0).abs().max() < 1e-4                          # the bias centres the outputs
    cov = feats.T @ feats / len(feats)
    assert torch.allclose(cov, torch.eye(12, dtype=torch.float64), atol=1e-3)  # identity covariance
    assert torch.allclose(y[:, 12:], -y[:, :12], atol=1e-5)  # the second half mirrors the first


def test_whiten_init_filters_are_eigenvectors_of_patch_covariance():
    images = correlated_images(32, seed=1)
    conv = torch.nn.Conv2d(3, 8, 2, bias=False)  # keep only the top-4 directions
    eig = whiten_init_(conv, images, eps=0.0)
    patches = torch.nn.functional.unfold(images, 2).transpose(1, 2).reshape(-1, 12).double()
    cov = torch.cov(patches.T, correction=0)
    w = conv.weight[:4].reshape(4, 12).double()
    v = w * eig.sqrt()[:, None]  # undo the 1/sqrt(λ) scaling: unit eigenvectors
    assert torch.allclose(v @ cov, eig[:, None] * v, atol=1e-3 * eig[0])
    assert torch.allclose(eig, torch.linalg.eigvalsh(cov).flip(0)[:4], rtol=1e-4)


def test_whiten_init_on_the_net_and_subsampling():
    m = CifarFastNet(widths=(16, 32, 32))
    images = correlated_images(8)
    whiten_init_(m.whiten, images, max_patches=500, generator=torch.Generator().manual_seed(0))
    assert not m.whiten.weight.requires_grad and m.whiten.bias.requires_grad
    assert torch.isfinite(m(torch.randn(2, 3, 32, 32))).all()


def test_whiten_init_bad_inputs():
    with pytest.raises(ConfigError, match="even out_channels"):
        whiten_init_(torch.nn.Conv2d(3, 25, 2), torch.randn(2, 3, 8, 8))
    with pytest.raises(ConfigError):
        whiten_init_(torch.nn.Conv2d(3, 26, 2), torch.randn(2, 3, 8, 8))  # 13 > 12 directions
    with pytest.raises(InputError, match="expects images"):
        whiten_init_(torch.nn.Conv2d(3, 24, 2), torch.randn(2, 1, 8, 8))


def test_flip_tta_is_flip_invariant():
    torch.manual_seed(0)
    m = CifarFastNet(widths=(8, 16, 16)).eval()
    x = torch.randn(3, 3, 32, 32)
    assert torch.allclose(flip_tta(m, x), flip_tta(m, x.flip(-1)), atol=1e-5)


def test_a_few_steps_reduce_the_loss():
    torch.manual_seed(0)
    m = CifarFastNet(widths=(8, 16, 16))
    x, y = torch.randn(32, 3, 16, 16), torch.randint(0, 10, (32,))  # 16×16 also works: 15→7→3→1
    whiten_init_(m.whiten, x)
    trainable = [p for p in m.parameters() if p.requires_grad]
    opt = torch.optim.SGD(trainable, lr=2.0, momentum=0.9, nesterov=True)  # small logits need a high LR
    losses = []
    for _ in range(10):
        loss = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.4


def test_global_pool_is_max_and_sends_each_gradient_to_one_position():
    """The global max-pool equals amax, and its gradient goes to one position per channel
    (by index): no equality test that mixed precision can break (see CifarFastNet.forward)."""
    torch.manual_seed(0)
    net = CifarFastNet(widths=(8, 8, 8))
    x = torch.randn(2, 3, 32, 32)
    feats = net.groups(torch.nn.functional.gelu(net.whiten(x))).detach().requires_grad_(True)
    pooled = torch.nn.functional.adaptive_max_pool2d(feats, 1).flatten(1)
    assert torch.equal(pooled, torch.amax(feats, dim=(2, 3)))
    pooled.sum().backward()
    assert torch.equal(feats.grad.sum(dim=(2, 3)), torch.ones(2, 8))
    assert int((feats.grad != 0).sum()) == 2 * 8


@pytest.mark.slow
def test_compiled_bf16_training_step_stays_finite():
    """Regression: torch.compile + bf16 autocast made every gradient NaN at the first step with
    an amax pool (cifar10-fast on an H200; the same on CPU, where this test runs)."""
    torch.manual_seed(0)
    net = CifarFastNet(widths=(8, 16, 16))
    x = torch.randn(16, 3, 32, 32)
    whiten_init_(net.whiten, x)
    net.compile()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = torch.nn.functional.cross_entropy(net(x), torch.randint(0, 10, (16,)), label_smoothing=0.2)
    loss.backward()
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    assert grads and all(bool(torch.isfinite(g).all()) for g in grads)
