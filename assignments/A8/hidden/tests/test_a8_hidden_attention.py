"""Hidden tests for a8_attention.py: every mask kind (none, padding, causal, both) with odd
shapes and cross-attention against torch for outputs, weights and gradients; fully masked
rows; huge scores; multi-head attention and the block with masks against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcc.course.checks import assert_close, assert_shape

MOD = "a8_attention"
KINDS = ["none", "padding", "causal", "both"]


def allowed_mask(kind, b, lq, lk, rng):
    """Boolean (True = may attend) mask broadcastable to (B, H, Lq, Lk), or None."""
    mask = None
    if kind in ("padding", "both"):
        lengths = rng.integers(1, lk + 1, size=b)
        lengths[0] = max(1, lk - 3)
        mask = (np.arange(lk)[None, :] < lengths[:, None])[:, None, None, :]
    if kind in ("causal", "both"):
        causal = np.tril(np.ones((lq, lk), bool))
        mask = causal if mask is None else mask & causal
    return mask


def torch_reference(q, k, v, mask, dout):
    t = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*t, attn_mask=None if mask is None else torch.tensor(mask))
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), [a.grad.numpy() for a in t]


def torch_weights(q, k, mask):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    return torch.softmax(torch.tensor(s if mask is None else np.where(mask, s, -np.inf)), dim=-1).numpy()


@pytest.mark.task("A8.1")
@pytest.mark.parametrize("n", [1, 7])
def test_causal_mask_sizes(student, n):
    mask = student.module(MOD).causal_mask(n)
    assert np.asarray(mask).dtype == bool
    i, j = np.indices((n, n))
    assert_close(mask, j <= i, name=f"causal_mask({n})")


@pytest.mark.task("A8.1")
def test_padding_mask_edge_lengths(student):
    mask = student.module(MOD).padding_mask(np.array([0, 5, 3]), 5)
    assert_shape(mask, (3, 1, 1, 5), name="padding_mask([0, 5, 3], 5)")
    assert np.asarray(mask).dtype == bool
    assert_close(np.asarray(mask)[:, 0, 0], np.arange(5)[None, :] < np.array([[0], [5], [3]]), name="rows")


@pytest.mark.task("A8.2", weight=2)
@pytest.mark.parametrize("kind", KINDS)
def test_attention_forward_matches_torch(student, kind):
    rng = np.random.default_rng(10 + KINDS.index(kind))
    b, h, lq, lk, d, dv = 3, 3, 7, 7, 9, 5
    q, k, v = rng.normal(size=(b, h, lq, d)), rng.normal(size=(b, h, lk, d)), rng.normal(size=(b, h, lk, dv))
    mask = allowed_mask(kind, b, lq, lk, rng)
    out, cache = student.module(MOD).attention_forward(q, k, v, mask)
    expected, _ = torch_reference(q, k, v, mask, np.zeros((b, h, lq, dv)))
    assert_close(out, expected, rtol=1e-6, atol=1e-9, name=f"attention output ({kind} mask)")
    assert_close(cache["weights"], torch_weights(q, k, mask), rtol=1e-6, atol=1e-9, name=f"weights ({kind} mask)")


@pytest.mark.task("A8.2")
def test_cross_attention_with_padding(student):
    rng = np.random.default_rng(20)
    q, k, v = rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(2, 1, 6, 4)), rng.normal(size=(2, 1, 6, 7))
    mask = allowed_mask("padding", 2, 3, 6, rng)
    out, _ = student.module(MOD).attention_forward(q, k, v, mask)
    expected, _ = torch_reference(q, k, v, mask, np.zeros((2, 1, 3, 7)))
    assert_close(out, expected, rtol=1e-6, atol=1e-9, name="cross-attention output (Lq 3, Lk 6)")


@pytest.mark.task("A8.2")
def test_fully_masked_row_gives_zero_weights_and_output(student):
    rng = np.random.default_rng(21)
    q, k, v = (rng.normal(size=(2, 4, 3)) for _ in range(3))
    mask = np.ones((2, 4, 4), bool)
    mask[1, 2] = False
    out, cache = student.module(MOD).attention_forward(q, k, v, mask)
    assert_close(np.asarray(out)[1, 2], np.zeros(3), name="output of the fully masked query")
    assert_close(np.asarray(cache["weights"])[1, 2], np.zeros(4), name="weights of the fully masked query")
    expected, _ = torch_reference(q, k, v, mask, np.zeros((2, 4, 3)))
    assert_close(out, expected, rtol=1e-6, atol=1e-9, name="the other queries")


@pytest.mark.task("A8.2")
def test_huge_scores_do_not_overflow(student):
    q = np.array([[[30.0, 0.0], [-30.0, 0.0]]])
    k = np.array([[[30.0, 0.0], [29.0, 1.0]]])
    v = np.array([[[1.0], [2.0]]])
    out, _ = student.module(MOD).attention_forward(q, k, v)
    expected, _ = torch_reference(q, k, v, None, np.zeros((1, 2, 1)))
    assert np.isfinite(out).all(), "scores of ~600 overflow exp(): subtract the row maximum first"
    assert_close(out, expected, rtol=1e-6, atol=1e-9, name="output for scores of about 600")


@pytest.mark.task("A8.3", weight=2)
@pytest.mark.parametrize("kind", KINDS)
def test_attention_backward_matches_torch(student, kind):
    mod = student.module(MOD)
    rng = np.random.default_rng(30 + KINDS.index(kind))
    b, h, lq, lk, d, dv = 3, 3, 7, 7, 9, 5
    q, k, v = rng.normal(size=(b, h, lq, d)), rng.normal(size=(b, h, lk, d)), rng.normal(size=(b, h, lk, dv))
    mask = allowed_mask(kind, b, lq, lk, rng)
    dout = rng.normal(size=(b, h, lq, dv))
    _, cache = mod.attention_forward(q, k, v, mask)
    grads = mod.attention_backward(dout, cache)
    _, expected = torch_reference(q, k, v, mask, dout)
    for name, g, e in zip(("dq", "dk", "dv"), grads, expected):
        assert_close(g, e, rtol=1e-6, atol=1e-9, name=f"{name} ({kind} mask)")


@pytest.mark.task("A8.3")
def test_backward_cross_attention_and_fully_masked_row(student):
    mod = student.module(MOD)
    rng = np.random.default_rng(40)
    q, k, v = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 2, 4))
    mask = np.ones((2, 5, 2), bool)
    mask[0, 4] = False
    mask[1, :, 1] = False
    dout = rng.normal(size=(2, 5, 4))
    _, cache = mod.attention_forward(q, k, v, mask)
    dq, dk, dv = mod.attention_backward(dout, cache)
    _, expected = torch_reference(q, k, v, mask, dout)
    for name, g, e in zip(("dq", "dk", "dv"), (dq, dk, dv), expected):
        assert_close(g, e, rtol=1e-6, atol=1e-9, name=f"{name} (cross-attention, masked keys and a masked row)")
    assert_close(np.asarray(dk)[1, 1], np.zeros(3), name="dk of a key no query may see")


def mha_pair(e, h, seed):
    torch.manual_seed(seed)
    ref = torch.nn.MultiheadAttention(e, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        ref.in_proj_bias.normal_()
        ref.out_proj.bias.normal_()
    w, bias = ref.in_proj_weight.detach().numpy(), ref.in_proj_bias.detach().numpy()
    params = {f"W{n}": w[i * e:(i + 1) * e].T.copy() for i, n in enumerate("qkv")}
    params.update({f"b{n}": bias[i * e:(i + 1) * e].copy() for i, n in enumerate("qkv")})
    params["Wo"] = ref.out_proj.weight.detach().numpy().T.copy()
    params["bo"] = ref.out_proj.bias.detach().numpy().copy()
    return ref, params


def torch_module_masks(mask, b, n):
    """Our allowed-mask as torch.nn.MultiheadAttention's (key_padding_mask, attn_mask)."""
    if mask is None:
        return None, None
    full = np.broadcast_to(mask, (b, 1, n, n))
    pad = ~full[:, 0].any(axis=1)                     # keys no query may see: padding
    causal = not full[:, 0, 0, 1:].any()              # query 0 sees only key 0
    return torch.tensor(pad), (torch.tensor(~np.tril(np.ones((n, n), bool))) if causal else None)


@pytest.mark.task("A8.4", weight=2)
@pytest.mark.parametrize("kind", KINDS)
def test_multihead_matches_torch_with_masks(student, kind):
    b, n, e, h = 3, 7, 9, 3
    ref, params = mha_pair(e, h, 50 + KINDS.index(kind))
    rng = np.random.default_rng(50)
    x = rng.normal(size=(b, n, e))
    mask = allowed_mask(kind, b, n, n, rng)
    kpm, am = torch_module_masks(mask, b, n)
    expected, weights = ref(*(torch.tensor(x),) * 3, key_padding_mask=kpm, attn_mask=am, average_attn_weights=False)
    y, w = student.module(MOD).multihead_attention_forward(x, params, h, mask)
    assert_close(y, expected.detach().numpy(), rtol=1e-6, atol=1e-9, name=f"multi-head output ({kind} mask)")
    assert_close(w, weights.detach().numpy(), rtol=1e-6, atol=1e-9, name=f"per-head weights ({kind} mask)")


@pytest.mark.task("A8.4")
def test_split_heads_odd_sizes(student):
    mod = student.module(MOD)
    x = np.random.default_rng(51).normal(size=(3, 7, 9))
    heads = mod.split_heads(x, 3)
    assert_close(heads, x.reshape(3, 7, 3, 3).transpose(0, 2, 1, 3), name="split_heads (3, 7, 9) into 3 heads")
    assert_close(mod.merge_heads(heads), x, name="merge_heads")


@pytest.mark.task("A8.5", weight=2)
@pytest.mark.parametrize("kind", KINDS)
def test_block_matches_torch_with_masks(student, kind):
    b, n, e, h, f = 3, 7, 9, 3, 13
    torch.manual_seed(60)
    ref = torch.nn.TransformerEncoderLayer(e, h, f, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True, dtype=torch.float64)
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(0.3 * torch.randn_like(p))
    w, bias = ref.self_attn.in_proj_weight.detach().numpy(), ref.self_attn.in_proj_bias.detach().numpy()
    params = {f"W{nm}": w[i * e:(i + 1) * e].T.copy() for i, nm in enumerate("qkv")}
    params.update({f"b{nm}": bias[i * e:(i + 1) * e].copy() for i, nm in enumerate("qkv")})
    arrays = {"Wo": ref.self_attn.out_proj.weight.T, "bo": ref.self_attn.out_proj.bias,
              "ln1_weight": ref.norm1.weight, "ln1_bias": ref.norm1.bias, "ln2_weight": ref.norm2.weight,
              "ln2_bias": ref.norm2.bias, "W1": ref.linear1.weight.T, "b1": ref.linear1.bias,
              "W2": ref.linear2.weight.T, "b2": ref.linear2.bias}
    params.update({k: v.detach().numpy().copy() for k, v in arrays.items()})
    rng = np.random.default_rng(61)
    x = rng.normal(size=(b, n, e))
    mask = allowed_mask(kind, b, n, n, rng)
    kpm, am = torch_module_masks(mask, b, n)
    expected = ref(torch.tensor(x), src_mask=am, src_key_padding_mask=kpm).detach().numpy()
    y = student.module(MOD).transformer_block_forward(x, params, h, mask)
    assert_close(y, expected, rtol=1e-6, atol=1e-9, name=f"block output ({kind} mask)")
