"""Scaled dot-product attention in the NumPy engine against torch's
`scaled_dot_product_attention`, in float64: outputs and the gradients of q, k and v agree to
1e-6 (absolute) for no mask, a padding mask, a causal mask and both, with odd shapes and
cross-attention (Lq != Lk); a fully masked query row gives zeros, like torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.layers.attention import (masked_softmax, scaled_dot_product_attention,
                                           scaled_dot_product_attention_backward)
from dlcc.scratch.layers.masks import causal_mask, combine_masks, padding_mask

TOL = 1e-6
MASKS = ["none", "padding", "causal", "both"]


def max_err(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def run_both(q, k, v, ours_mask, torch_mask, is_causal, seed=0):
    """Forward and backward in both engines; returns our (out, dq, dk, dv) and torch's."""
    out, cache = scaled_dot_product_attention(q, k, v, ours_mask, is_causal=is_causal)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    ours = (out, *scaled_dot_product_attention_backward(dout, cache))
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    tm = None if torch_mask is None else torch.tensor(torch_mask)
    ot = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=tm)
    ot.backward(torch.tensor(dout))
    theirs = (ot.detach().numpy(), qt.grad.numpy(), kt.grad.numpy(), vt.grad.numpy())
    return ours, theirs


def masks_for(kind, b, lq, lk, rng):
    """(our mask, our is_causal, torch's explicit bool mask (True = allowed)) for a mask kind."""
    lengths = rng.integers(1, lk + 1, size=b)
    lengths[0] = lk - 2 if lk > 2 else 1            # at least one sequence is really padded
    pad = padding_mask(lengths, lk)                  # (B, 1, 1, Lk)
    causal = causal_mask(lq, lk)
    if kind == "none":
        return None, False, None
    if kind == "padding":
        return pad, False, pad
    if kind == "causal":
        return None, True, causal
    return pad, True, combine_masks(pad, causal)


@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("b, h, lq, lk, d, dv", [(3, 3, 7, 7, 9, 9), (2, 1, 5, 7, 4, 3),
                                                 (1, 2, 1, 6, 5, 2), (3, 3, 7, 4, 3, 9)])
def test_sdpa_matches_torch(kind, b, h, lq, lk, d, dv):
    rng = np.random.default_rng(b * 100 + lq * 10 + lk)
    q, k = rng.standard_normal((b, h, lq, d)), rng.standard_normal((b, h, lk, d))
    v = rng.standard_normal((b, h, lk, dv))
    mask, is_causal, torch_mask = masks_for(kind, b, lq, lk, rng)
    ours, theirs = run_both(q, k, v, mask, torch_mask, is_causal)
    for name, a, t in zip(("output", "dq", "dk", "dv"), ours, theirs):
        assert max_err(a, t) <= TOL, f"{kind} {name}: max error {max_err(a, t):.3g}"


def test_sdpa_float_additive_mask_and_custom_scale_match_torch():
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((2, 5, 4)) for _ in range(3))
    bias = rng.standard_normal((5, 5))
    out, cache = scaled_dot_product_attention(q, k, v, bias, scale=0.3)
    dout = rng.standard_normal(out.shape)
    grads = scaled_dot_product_attention_backward(dout, cache)
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    ot = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=torch.tensor(bias), scale=0.3)
    ot.backward(torch.tensor(dout))
    assert max_err(out, ot.detach().numpy()) <= TOL
    for g, t in zip(grads, (qt.grad, kt.grad, vt.grad)):
        assert max_err(g, t.numpy()) <= TOL


def test_broadcast_key_value_gradients_are_summed_back():
    """k and v shared by every head (B, 1, Lk, D): their gradients sum over the heads."""
    rng = np.random.default_rng(4)
    q = rng.standard_normal((2, 3, 4, 5))
    k, v = rng.standard_normal((2, 1, 6, 5)), rng.standard_normal((2, 1, 6, 5))
    ours, theirs = run_both(q, k, v, None, None, False)
    for a, t in zip(ours, theirs):
        assert a.shape == t.shape and max_err(a, t) <= TOL


def test_fully_masked_row_gives_zero_output_weights_and_gradient():
    """A query that may see no key: weights, output and gradients 0 (torch agrees), never NaN."""
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    mask = np.ones((2, 4, 4), dtype=bool)
    mask[1, 2] = False                     # sequence 1, query 2 sees nothing
    out, cache = scaled_dot_product_attention(q, k, v, mask)
    assert np.isfinite(out).all() and np.all(out[1, 2] == 0) and np.all(cache.weights[1, 2] == 0)
    ours, theirs = run_both(q, k, v, mask, mask, False)
    for a, t in zip(ours, theirs):
        assert np.isfinite(a).all() and max_err(a, t) <= TOL
    assert np.all(ours[1][1, 2] == 0), "dq of the fully masked query must be 0"


def test_masked_softmax_rows_sum_to_one_or_zero():
    s = np.array([[1.0, -np.inf, 2.0], [-np.inf, -np.inf, -np.inf], [1e4, 0.0, -1e4]])
    p = masked_softmax(s)
    np.testing.assert_allclose(p.sum(axis=-1), [1.0, 0.0, 1.0])
    assert p[0, 1] == 0 and np.isfinite(p).all()


def test_masks_shapes_and_conventions():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    assert causal_mask(2, 4).shape == (2, 4)
    pad = padding_mask([2, 3], 3)
    assert pad.shape == (2, 1, 1, 3) and pad[0, 0, 0].tolist() == [True, True, False]
    both = combine_masks(causal_mask(3), pad)
    assert both.shape == (2, 1, 3, 3) and not both[0, 0, 2, 2] and both[1, 0, 2, 2]
    assert combine_masks(None, None) is None


@pytest.mark.parametrize("call, message", [
    (lambda: padding_mask([1, 4], 3), "lengths"),
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 4))), "do not fit"),
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 3)),
                                          np.ones((3, 4), bool)), "does not broadcast"),
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 3)),
                                          dropout_p=0.5), "rng"),
    (lambda: scaled_dot_product_attention(np.ones((2, 3), int), np.ones((4, 3)), np.ones((4, 3))), "dtype"),
])
def test_bad_input_is_one_clear_error(call, message):
    with pytest.raises((InputError, ConfigError), match=message):
        call()


def test_dropout_on_the_weights_is_seeded_and_backpropagates():
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((3, 5, 4)) for _ in range(3))
    a, cache = scaled_dot_product_attention(q, k, v, dropout_p=0.5, rng=np.random.default_rng(1))
    b, _ = scaled_dot_product_attention(q, k, v, dropout_p=0.5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    dout = rng.standard_normal(a.shape)
    _, _, dv = scaled_dot_product_attention_backward(dout, cache)
    np.testing.assert_allclose(dv, np.swapaxes(cache.dropped, -1, -2) @ dout)
