"""Parity with PyTorch for Conv2d, MaxPool2d and AvgPool2d, plus the im2col/col2im pair."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layer_parity import check_parity, to_np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dlcc.scratch.functional import col2im, conv_output_size, im2col
from dlcc.scratch.layers import AvgPool2d, Conv2d, MaxPool2d

pytestmark = pytest.mark.usefixtures("float64_default")
F64 = np.float64


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# (x shape, conv kwargs): batch 1, non-square kernels, stride 2 with padding, dilation 2,
# odd spatial sizes, groups, no bias, a kernel as large as the padded input.
CONV_CASES = [
    ((1, 1, 5, 5), dict(out_channels=1, kernel_size=3)),
    ((2, 3, 8, 8), dict(out_channels=4, kernel_size=3, padding=1)),
    ((1, 2, 7, 9), dict(out_channels=3, kernel_size=(2, 3))),
    ((2, 3, 9, 7), dict(out_channels=2, kernel_size=(3, 1), stride=2, padding=1)),
    ((2, 2, 11, 10), dict(out_channels=3, kernel_size=3, stride=2, padding=1)),
    ((2, 2, 10, 11), dict(out_channels=2, kernel_size=3, stride=(2, 3), padding=(2, 1))),
    ((1, 3, 9, 9), dict(out_channels=2, kernel_size=3, dilation=2)),
    ((2, 2, 13, 11), dict(out_channels=4, kernel_size=(3, 2), stride=2, padding=2, dilation=(2, 3))),
    ((2, 4, 6, 6), dict(out_channels=6, kernel_size=3, groups=2, padding=1)),
    ((1, 4, 5, 5), dict(out_channels=4, kernel_size=3, groups=4)),          # depthwise
    ((2, 3, 5, 5), dict(out_channels=2, kernel_size=1, bias=False)),
    ((1, 2, 3, 3), dict(out_channels=2, kernel_size=5, padding=1)),         # kernel > input
    ((2, 3, 7, 7), dict(out_channels=2, kernel_size=3, padding="same")),
    ((2, 3, 7, 7), dict(out_channels=2, kernel_size=3, padding="valid")),
]


def _conv_pair(in_channels, **kwargs):
    theirs = torch.nn.Conv2d(in_channels, **kwargs)
    ours = Conv2d(in_channels, dtype=F64, **kwargs)
    return ours, theirs


@pytest.mark.parametrize("shape,kwargs", CONV_CASES, ids=[str(c) for c in CONV_CASES])
def test_conv2d_parity(shape, kwargs):
    torch.manual_seed(0)
    ours, theirs = _conv_pair(shape[1], **kwargs)
    check_parity(ours, theirs, randn(*shape))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(n=st.integers(1, 3), cin=st.integers(1, 4), cout=st.integers(1, 4), h=st.integers(1, 9),
       w=st.integers(1, 9), kh=st.integers(1, 4), kw=st.integers(1, 4), stride=st.integers(1, 3),
       pad=st.integers(0, 2), dil=st.integers(1, 2), groups=st.sampled_from([1, 2]),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_parity_hypothesis(n, cin, cout, h, w, kh, kw, stride, pad, dil, groups, bias, seed):
    assume(conv_output_size(h, kh, stride, pad, dil) >= 1 and conv_output_size(w, kw, stride, pad, dil) >= 1)
    cin, cout = cin * groups, cout * groups
    torch.manual_seed(seed)
    ours, theirs = _conv_pair(cin, out_channels=cout, kernel_size=(kh, kw), stride=stride,
                              padding=pad, dilation=dil, groups=groups, bias=bias)
    check_parity(ours, theirs, randn(n, cin, h, w, seed=seed), seed=seed)


def test_conv2d_skip_input_grad_and_float32():
    conv = Conv2d(2, 3, 3, padding=1, rng=0)
    y = conv.forward(randn(2, 2, 5, 5).astype(np.float32))
    assert y.dtype == np.float32 and y.flags.c_contiguous
    assert conv.backward(np.ones_like(y), input_grad=False) is None
    assert conv.grads["weight"].dtype == np.float32


def test_conv2d_default_init_bound_is_torchs():
    w = Conv2d(8, 16, (3, 5), groups=2, rng=0).params["weight"]
    bound = 1 / np.sqrt(8 // 2 * 3 * 5)
    assert w.shape == (16, 4, 3, 5) and np.abs(w).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound


@settings(max_examples=20, deadline=None, derandomize=True)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(2, 8), w=st.integers(2, 8),
       k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1), d=st.integers(1, 2))
def test_col2im_is_the_adjoint_of_im2col(n, c, h, w, k, s, p, d):
    """<im2col(x), cols> == <x, col2im(cols)>: col2im is exactly the transpose of im2col."""
    assume(conv_output_size(h, k, s, p, d) >= 1 and conv_output_size(w, k, s, p, d) >= 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w))
    cols = im2col(x, (k, k), (s, s), (p, p), (d, d))
    other = rng.standard_normal(cols.shape)
    back = col2im(other, x.shape, (k, k), (s, s), (p, p), (d, d))
    np.testing.assert_allclose(np.vdot(cols, other), np.vdot(x, back), rtol=1e-10)


# --- pooling --------------------------------------------------------------------------------
POOL_CASES = [
    ((1, 1, 4, 4), dict(kernel_size=2)),
    ((2, 3, 7, 5), dict(kernel_size=2)),                        # odd sizes drop the remainder
    ((2, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 6, 9), dict(kernel_size=(2, 3), stride=(1, 2))),
    ((2, 2, 8, 8), dict(kernel_size=3, stride=1)),               # overlapping windows
    ((1, 1, 5, 5), dict(kernel_size=5)),
]


@pytest.mark.parametrize("shape,kwargs", POOL_CASES, ids=[str(c) for c in POOL_CASES])
def test_maxpool_parity(shape, kwargs):
    check_parity(MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), randn(*shape))


def test_maxpool_dilation_parity():
    kwargs = dict(kernel_size=2, stride=1, dilation=2, padding=1)
    check_parity(MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), randn(2, 2, 7, 6))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                    dict(kernel_size=3, stride=2)])
def test_maxpool_ties_route_gradient_to_one_maximum_like_torch(kwargs):
    """Constant regions and repeated values: each output sends its whole gradient to exactly one
    input (the first maximum in its window), the same one torch picks."""
    x = np.round(np.random.default_rng(1).standard_normal((2, 2, 7, 7)))   # many exact ties
    x[0, 0] = 1.0                                                           # a constant plane
    out = check_parity(MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), x)
    np.testing.assert_allclose(out["dx"].sum(), out["dy"].sum())


@settings(max_examples=20, deadline=None, derandomize=True)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9),
       k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), ties=st.booleans(),
       seed=st.integers(0, 2**16))
def test_pool_parity_hypothesis(n, c, h, w, k, s, p, ties, seed):
    assume(p <= k // 2 and conv_output_size(h, k, s, p, 1) >= 1 and conv_output_size(w, k, s, p, 1) >= 1)
    x = randn(n, c, h, w, seed=seed)
    if ties:
        x = np.round(x)
    kwargs = dict(kernel_size=k, stride=s, padding=p)
    check_parity(MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), x, seed=seed)
    for include in (True, False):
        check_parity(AvgPool2d(**kwargs, count_include_pad=include),
                     torch.nn.AvgPool2d(**kwargs, count_include_pad=include), x, seed=seed)


@pytest.mark.parametrize("shape,kwargs", POOL_CASES, ids=[str(c) for c in POOL_CASES])
def test_avgpool_parity(shape, kwargs):
    check_parity(AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs), randn(*shape))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                    dict(kernel_size=2, padding=1, count_include_pad=False),
                                    dict(kernel_size=3, padding=1, divisor_override=2)])
def test_avgpool_options_parity(kwargs):
    check_parity(AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs), randn(2, 2, 7, 6))


def test_pools_keep_float32():
    x = randn(1, 2, 4, 4).astype(np.float32)
    for layer in (MaxPool2d(2), AvgPool2d(2)):
        y = layer.forward(x)
        assert y.dtype == np.float32 and layer.backward(np.ones_like(y)).dtype == np.float32


def test_small_cnn_end_to_end_parity():
    """Conv -> BN -> ReLU -> MaxPool -> Conv -> AvgPool -> Flatten -> Linear, copied from torch."""
    from dlcc.scratch.layers import BatchNorm2d, Flatten, Linear, ReLU, Sequential
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                             torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 5, 3, stride=2),
                             torch.nn.AvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(5, 3))
    ours = Sequential(Conv2d(3, 4, 3, padding=1, dtype=F64), BatchNorm2d(4, dtype=F64), ReLU(),
                      MaxPool2d(2), Conv2d(4, 5, 3, stride=2, dtype=F64), AvgPool2d(2), Flatten(),
                      Linear(5, 3, dtype=F64))
    out = check_parity(ours, tm, randn(2, 3, 11, 11))
    assert out["y"].shape == to_np(tm(torch.from_numpy(randn(2, 3, 11, 11)))).shape == (2, 3)
