"""MultiheadAttention in the NumPy engine against torch.nn.MultiheadAttention with the same
weights, in float64: output, per-head weights (torch averages them), the gradients of query,
key and value and of every parameter agree to 1e-6 for every mask kind, odd shapes (embed 9,
3 heads, sequence 7, batch 3), cross-attention, both layouts and unbatched input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import ConfigError, InputError
from dlcc.scratch import MultiheadAttention
from dlcc.scratch.gradcheck import gradcheck
from dlcc.scratch.layers.multihead import merge_heads, split_heads

TOL = 1e-6


def max_err(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def torch_masks(kind, b, lq, lk, rng):
    """torch's module conventions: key_padding_mask True = pad, attn_mask True = not allowed."""
    kpm = np.zeros((b, lk), dtype=bool)
    if kind in ("padding", "both"):
        for i in range(b):
            kpm[i, rng.integers(1, lk + 1):] = True
        kpm[0, max(1, lk - 2):] = True
    am = ~np.tril(np.ones((lq, lk), dtype=bool)) if kind in ("causal", "both") else None
    return (kpm if kind in ("padding", "both") else None), am


def pair(e, h, batch_first=True, bias=True, seed=0):
    torch.manual_seed(seed)
    ref = torch.nn.MultiheadAttention(e, h, bias=bias, batch_first=batch_first, dtype=torch.float64)
    with torch.no_grad():   # torch starts biases at 0: give them values so their paths are tested
        for name, p in ref.named_parameters():
            if "bias" in name:
                p.normal_()
    ours = MultiheadAttention(e, h, bias=bias, batch_first=batch_first, dtype=np.float64)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def compare(ours, ref, query, key, value, kpm, am, use_causal_flag=False, seed=1):
    """Run both (cross-attention when key is not None); assert every array agrees."""
    tq = torch.tensor(query, requires_grad=True)
    tk = tq if key is None else torch.tensor(key, requires_grad=True)
    tv = tk if value is None else torch.tensor(value, requires_grad=True)
    ref.zero_grad(set_to_none=True)
    yt, wt = ref(tq, tk, tv, key_padding_mask=None if kpm is None else torch.tensor(kpm),
                 attn_mask=None if am is None else torch.tensor(am))
    if use_causal_flag:
        y = ours.forward(query, key, value, kpm, None, True)
    else:
        y = ours.forward(query, key, value, kpm, am)
    errors = {"output": max_err(y, yt.detach().numpy()),
              "weights": max_err(ours.attn_weights.mean(axis=1), wt.detach().numpy())}
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    yt.backward(torch.tensor(dy))
    grads = ours.backward(dy)
    grads = grads if isinstance(grads, tuple) else (grads,)
    inputs = [t for t in (tq, None if key is None else tk, None if value is None else tv) if t is not None]
    for i, (g, t) in enumerate(zip(grads, inputs)):
        errors[f"d input {i}"] = max_err(g, t.grad.numpy())
    ours_grads = {name: m.grads[k] for name, m, k in ours.named_parameters()}
    for name, p in ref.named_parameters():
        errors[f"d {name}"] = max_err(ours_grads[name], p.grad.numpy())
    assert len(grads) == len(inputs)
    return errors


@pytest.mark.parametrize("kind", ["none", "padding", "causal", "both"])
@pytest.mark.parametrize("cross", [False, True])
def test_multihead_matches_torch(kind, cross):
    e, h, b, lq = 9, 3, 3, 7
    lk = 5 if cross else lq
    rng = np.random.default_rng(11 + cross)
    ours, ref = pair(e, h)
    query = rng.standard_normal((b, lq, e))
    key = rng.standard_normal((b, lk, e)) if cross else None
    value = rng.standard_normal((b, lk, e)) if cross else None
    kpm, am = torch_masks(kind, b, lq, lk, rng)
    errors = compare(ours, ref, query, key, value, kpm, am)
    bad = {k: v for k, v in errors.items() if v > TOL}
    assert not bad, f"{kind}, cross={cross}: {bad}"


def test_is_causal_flag_equals_an_explicit_causal_mask():
    rng = np.random.default_rng(2)
    ours, ref = pair(6, 2)
    x = rng.standard_normal((2, 5, 6))
    kpm, am = torch_masks("both", 2, 5, 5, rng)
    errors = compare(ours, ref, x, None, None, kpm, am, use_causal_flag=True)
    assert max(errors.values()) <= TOL, errors


def test_key_equals_value_returns_two_gradients():
    rng = np.random.default_rng(3)
    ours, ref = pair(8, 4)
    q, kv = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 6, 8))
    tq, tkv = torch.tensor(q, requires_grad=True), torch.tensor(kv, requires_grad=True)
    yt, _ = ref(tq, tkv, tkv)
    y = ours.forward(q, kv)
    dy = rng.standard_normal(y.shape)
    yt.backward(torch.tensor(dy))
    dq, dkv = ours.backward(dy)
    assert max_err(y, yt.detach().numpy()) <= TOL
    assert max_err(dq, tq.grad.numpy()) <= TOL and max_err(dkv, tkv.grad.numpy()) <= TOL


@pytest.mark.parametrize("layout", ["seq_first", "unbatched", "no_bias"])
def test_layouts_match_torch(layout):
    rng = np.random.default_rng(4)
    if layout == "seq_first":
        ours, ref = pair(9, 3, batch_first=False)
        x = rng.standard_normal((7, 3, 9))       # (L, B, E), torch's default layout
        kpm = np.zeros((3, 7), bool)
        kpm[2, 4:] = True
    elif layout == "unbatched":
        ours, ref = pair(9, 3)
        x, kpm = rng.standard_normal((7, 9)), np.array([False] * 5 + [True] * 2)
    else:
        ours, ref = pair(9, 3, bias=False)
        x, kpm = rng.standard_normal((3, 7, 9)), None
    errors = compare(ours, ref, x, None, None, kpm, None)
    assert max(errors.values()) <= TOL, errors


def test_fully_masked_sequence_gives_the_output_bias_not_nan():
    """Every key of one sequence padded: its attention output is 0 (so y = out_proj.bias) and
    its gradients are finite. torch.nn.MultiheadAttention returns NaN there."""
    rng = np.random.default_rng(5)
    ours, ref = pair(6, 2)
    x = rng.standard_normal((2, 4, 6))
    kpm = np.array([[False, False, True, True], [True, True, True, True]])
    y = ours.forward(x, None, None, kpm)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y[1], np.broadcast_to(ours.out_proj.params["bias"], (4, 6)))
    assert np.all(ours.attn_weights[1] == 0)
    dx = ours.backward(rng.standard_normal(y.shape))
    assert np.isfinite(dx).all()
    yt, _ = ref(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kpm))
    assert max_err(y[0], yt[0].detach().numpy()) <= TOL      # the other sequence agrees
    assert torch.isnan(yt[1]).all()                           # documented difference


def test_gradcheck_cross_attention_with_masks():
    rng = np.random.default_rng(6)
    layer = MultiheadAttention(6, 3, batch_first=True, rng=0, dtype=np.float64)
    for name, m, k in layer.named_parameters():
        m.params[k][...] = rng.standard_normal(m.params[k].shape) * 0.5
    q, k, v = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 4, 6))
    kpm = np.array([[False, False, False, True], [False, True, True, True]])
    report = gradcheck(layer, (q, k, v, kpm, None, True), max_entries=60)
    assert report.ok


def test_split_and_merge_heads_are_inverse():
    x = np.arange(2 * 5 * 6, dtype=float).reshape(2, 5, 6)
    heads = split_heads(x, 3)
    assert heads.shape == (2, 3, 5, 2)
    np.testing.assert_array_equal(heads[0, 1, 0], x[0, 0, 2:4])
    np.testing.assert_array_equal(merge_heads(heads), x)


@pytest.mark.parametrize("make, message", [
    (lambda: MultiheadAttention(10, 3), "not divisible"),
    (lambda: MultiheadAttention(6, 2, dropout=1.0), "dropout"),
    (lambda: MultiheadAttention(6, 2, batch_first=True).forward(np.ones((2, 3, 5))), "last dimension 6"),
    (lambda: MultiheadAttention(6, 2, batch_first=True).forward(np.ones((2, 3, 6)), None, None,
                                                                 np.zeros((2, 4), bool)), "key_padding_mask"),
    (lambda: MultiheadAttention(6, 2, batch_first=True).forward(np.ones((2, 3, 6)), None, None, None,
                                                                 np.zeros((4, 4), bool)), "attn_mask"),
    (lambda: MultiheadAttention(6, 2).backward(np.ones((3, 2, 6))), "before forward"),
])
def test_bad_input_is_one_clear_error(make, message):
    with pytest.raises((InputError, ConfigError), match=message):
        make()


def test_float_masks_are_added_like_torch():
    """Float key_padding_mask and attn_mask are added to the scores, as torch does."""
    rng = np.random.default_rng(7)
    ours, ref = pair(6, 3)
    x = rng.standard_normal((2, 5, 6))
    kpm = rng.standard_normal((2, 5))
    am = rng.standard_normal((5, 5))
    errors = compare(ours, ref, x, None, None, kpm, am)
    assert max(errors.values()) <= TOL, errors


def test_dropout_only_in_training_and_seeded():
    x = np.random.default_rng(8).standard_normal((2, 4, 6))
    a = MultiheadAttention(6, 2, dropout=0.5, batch_first=True, rng=3, dtype=np.float64)
    b = MultiheadAttention(6, 2, dropout=0.5, batch_first=True, rng=3, dtype=np.float64)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))     # same seed, same drops
    dropped = a.forward(x)
    a.eval()
    assert not np.allclose(dropped, a.forward(x))                   # eval mode: no dropout
    np.testing.assert_allclose(a.attn_weights.sum(-1), 1.0)
