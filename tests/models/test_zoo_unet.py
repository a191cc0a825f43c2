"""U-Nets: the course's (1,712,833 params) and the configurable one (sizes, padding, modes)."""

from __future__ import annotations

import pytest
import torch

from dlcc.errors import ConfigError, InputError
from dlcc.models import CourseUNet, UNet, count_params


def test_course_unet_params_match_spec():
    assert count_params(CourseUNet(112, 168, 3)) == 1_712_833


@pytest.mark.parametrize("size", [(112, 168), (64, 96)])
def test_course_unet_is_fully_convolutional(size):
    m = CourseUNet()
    assert m(torch.randn(1, 3, *size)).shape == (1, 1, *size)


def test_course_unet_rejects_sizes_not_divisible_by_8():
    with pytest.raises(InputError, match="divisible by 8") as err:
        CourseUNet()(torch.randn(1, 3, 30, 32))
    assert "pad_to_multiple" in err.value.fix


def double_conv(cin, cout):  # two 3×3 convs without bias + two BNs
    return cin * cout * 9 + cout * cout * 9 + 4 * cout


def expected_unet_params(cin, cout, depth, width, transposed):
    w = [width * 2**i for i in range(depth + 1)]
    n = double_conv(cin, w[0]) + sum(double_conv(w[i], w[i + 1]) for i in range(depth))
    for i in range(depth):
        c = w[i + 1]
        up = c * (c // 2) * 4 + c // 2 if transposed else c * (c // 2) + c // 2
        n += up + double_conv(c, c // 2)
    return n + w[0] * cout + cout


@pytest.mark.parametrize("upsample", ["bilinear", "transposed"])
@pytest.mark.parametrize("depth,width", [(1, 4), (3, 8), (4, 16)])
def test_unet_params_by_formula(upsample, depth, width):
    m = UNet(in_channels=3, out_channels=2, depth=depth, width=width, upsample=upsample)
    assert count_params(m) == expected_unet_params(3, 2, depth, width, upsample == "transposed")


def test_original_unet_size():
    # Ronneberger et al.'s configuration (width 64, depth 4, learned upsampling) is ~31 M parameters
    assert count_params(UNet(1, 2, depth=4, width=64, upsample="transposed")) == expected_unet_params(1, 2, 4, 64, True)
    assert 31_000_000 < count_params(UNet(1, 2, depth=4, width=64, upsample="transposed")) < 31_100_000


@pytest.mark.parametrize("upsample", ["bilinear", "transposed"])
@pytest.mark.parametrize("size", [(32, 32), (37, 50), (17, 9)])
def test_unet_handles_odd_sizes(upsample, size):
    m = UNet(in_channels=2, out_channels=3, depth=3, width=4, upsample=upsample)
    assert m(torch.randn(2, 2, *size)).shape == (2, 3, *size)


def test_unet_padding_does_not_change_divisible_inputs():
    torch.manual_seed(0)
    m = UNet(1, 1, depth=2, width=4).eval()
    x = torch.randn(1, 1, 16, 16)
    strict = UNet(1, 1, depth=2, width=4, pad_input=False).eval()
    strict.load_state_dict(m.state_dict())
    assert torch.allclose(m(x), strict(x))


def test_unet_strict_mode_rejects_odd_sizes():
    with pytest.raises(InputError, match="divisible by 8"):
        UNet(1, 1, depth=3, width=4, pad_input=False)(torch.randn(1, 1, 20, 24))


def test_unet_bad_config():
    with pytest.raises(ConfigError, match="upsample"):
        UNet(upsample="nearest")
    with pytest.raises(ConfigError, match="depth"):
        UNet(depth=0)


def test_unet_learns_a_trivial_mask():
    """A few Adam steps on one image drive BCE down: gradients flow through skips and upsampling."""
    torch.manual_seed(0)
    x = torch.randn(2, 1, 8, 8)
    y = (x > 0).float()
    m = UNet(1, 1, depth=2, width=4)
    opt = torch.optim.Adam(m.parameters(), 2e-2)
    losses = []
    for _ in range(15):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_gradient_checkpointing_changes_memory_not_results():
    """Checkpointed U-Net: the same loss, gradients and BatchNorm running statistics."""
    import copy

    from dlcc.models import UNet

    torch.manual_seed(0)
    plain = UNet(1, 1, depth=2, width=4)
    ckpt = copy.deepcopy(plain)
    ckpt.checkpointing = True
    x = torch.randn(2, 1, 32, 32)
    for net in (plain, ckpt):
        net.train()
        net(x).square().mean().backward()
    for (name, a), b in zip(plain.named_parameters(), ckpt.parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-6), name
    for (name, a), b in zip(plain.named_buffers(), ckpt.buffers()):
        assert torch.allclose(a.float(), b.float()), name      # running stats updated once, not twice


def test_gpt_gradient_checkpointing_matches_with_dropout():
    import copy

    from dlcc.models.transformer import GPT

    torch.manual_seed(0)
    plain = GPT(20, block_size=8, n_layer=2, n_head=2, n_embd=16, dropout=0.1)
    ckpt = copy.deepcopy(plain)
    ckpt.checkpointing = True
    idx = torch.randint(0, 20, (3, 8))
    grads = []
    for net in (plain, ckpt):
        torch.manual_seed(1)
        net.train()
        net(idx).logsumexp(-1).mean().backward()
        grads.append([p.grad.clone() for p in net.parameters()])
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(*grads))
