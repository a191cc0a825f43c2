"""Public tests for a8_attention.py: masks, attention forward and backward, multi-head
attention and the pre-LN block, checked against torch (which runs here, in the test process)
and against numerical gradients. Run them with `dlcc course test A8`.

The grader runs more (hidden) tests on every task: other shapes, every mask kind, and edge cases.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcc.course.checks import assert_close, assert_shape, numerical_gradient

MOD = "a8_attention"


def torch_attention(q, k, v, allowed=None):
    t = [torch.tensor(a) for a in (q, k, v)]
    mask = None if allowed is None else torch.tensor(allowed)
    return F.scaled_dot_product_attention(*t, attn_mask=mask).numpy()


def params_from_torch(mha: torch.nn.MultiheadAttention) -> dict:
    """torch's (out, in) weights as the assignment's x @ W + b matrices."""
    e = mha.embed_dim
    w, b = mha.in_proj_weight.detach().numpy(), mha.in_proj_bias.detach().numpy()
    params = {}
    for i, name in enumerate("qkv"):
        params[f"W{name}"] = w[i * e:(i + 1) * e].T.copy()
        params[f"b{name}"] = b[i * e:(i + 1) * e].copy()
    params["Wo"] = mha.out_proj.weight.detach().numpy().T.copy()
    params["bo"] = mha.out_proj.bias.detach().numpy().copy()
    return params


@pytest.mark.task("A8.1")
def test_causal_mask_of_three(student):
    mask = student.module(MOD).causal_mask(3)
    assert np.asarray(mask).dtype == bool, "the mask should be boolean"
    assert_close(mask, [[1, 0, 0], [1, 1, 0], [1, 1, 1]], name="causal_mask(3) (True = may attend)")


@pytest.mark.task("A8.1")
def test_padding_mask_marks_real_tokens(student):
    mask = student.module(MOD).padding_mask(np.array([2, 4]), 4)
    assert_shape(mask, (2, 1, 1, 4), name="padding_mask([2, 4], 4)")
    assert_close(np.asarray(mask)[:, 0, 0], [[1, 1, 0, 0], [1, 1, 1, 1]], name="padding_mask rows")


@pytest.mark.task("A8.2")
def test_attention_matches_torch_without_mask(student):
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 6, 2))
    out, cache = student.module(MOD).attention_forward(q, k, v)
    assert_shape(out, (2, 3, 4, 2), name="out")
    assert_close(np.asarray(cache["weights"]).sum(axis=-1), np.ones((2, 3, 4)), name="rows of the weights")
    assert_close(out, torch_attention(q, k, v), rtol=1e-6, atol=1e-9, name="attention output")


@pytest.mark.task("A8.2")
def test_attention_with_causal_mask_matches_torch(student):
    rng = np.random.default_rng(1)
    q, k, v = (rng.normal(size=(1, 2, 5, 3)) for _ in range(3))
    causal = np.tril(np.ones((5, 5), bool))
    out, cache = student.module(MOD).attention_forward(q, k, v, causal)
    assert_close(out, torch_attention(q, k, v, causal), rtol=1e-6, atol=1e-9, name="causal attention output")
    assert_close(np.asarray(cache["weights"])[0, 0, 0, 1:], np.zeros(4), name="weights of future keys of query 0")


@pytest.mark.task("A8.2")
def test_fully_masked_query_is_not_nan(student):
    rng = np.random.default_rng(2)
    q, k, v = (rng.normal(size=(1, 3, 2)) for _ in range(3))
    mask = np.array([[True, True, False], [False, False, False], [True, True, True]])
    out, _ = student.module(MOD).attention_forward(q, k, v, mask)
    assert np.isfinite(out).all(), "a query that may see no key must give zeros, not NaN"


@pytest.mark.task("A8.3")
def test_attention_backward_numerically(student):
    mod = student.module(MOD)
    rng = np.random.default_rng(3)
    q, k, v = rng.normal(size=(1, 3, 2)), rng.normal(size=(1, 4, 2)), rng.normal(size=(1, 4, 2))
    dout = rng.normal(size=(1, 3, 2))
    _, cache = mod.attention_forward(q, k, v)
    dq, dk, dv = mod.attention_backward(dout, cache)
    for name, x, grad in (("dq", q, dq), ("dk", k, dk), ("dv", v, dv)):
        num = numerical_gradient(lambda: float(np.sum(mod.attention_forward(q, k, v)[0] * dout)), x)
        assert_close(grad, num, rtol=1e-5, atol=1e-7, name=name)


@pytest.mark.task("A8.4")
def test_split_and_merge_heads(student):
    mod = student.module(MOD)
    x = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    heads = mod.split_heads(x, 2)
    assert_shape(heads, (2, 2, 3, 2), name="split_heads(x (2, 3, 4), 2)")
    assert_close(np.asarray(heads)[0, 1, 0], [2.0, 3.0], name="head 1 of token 0 (features 2 and 3)")
    assert_close(mod.merge_heads(heads), x, name="merge_heads(split_heads(x))")


@pytest.mark.task("A8.4")
def test_multihead_attention_matches_torch(student):
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float64)
    x = np.random.default_rng(4).normal(size=(2, 5, 8))
    expected, _ = ref(*(torch.tensor(x),) * 3, need_weights=False)
    y, weights = student.module(MOD).multihead_attention_forward(x, params_from_torch(ref), 2)
    assert_shape(weights, (2, 2, 5, 5), name="weights (B, H, L, L)")
    assert_close(y, expected.detach().numpy(), rtol=1e-6, atol=1e-9, name="multi-head attention output")


@pytest.mark.task("A8.5")
def test_transformer_block_matches_torch(student):
    torch.manual_seed(1)
    ref = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True, dtype=torch.float64)
    params = params_from_torch(ref.self_attn)
    params.update({"ln1_weight": ref.norm1.weight, "ln1_bias": ref.norm1.bias, "ln2_weight": ref.norm2.weight,
                   "ln2_bias": ref.norm2.bias, "W1": ref.linear1.weight.T, "b1": ref.linear1.bias,
                   "W2": ref.linear2.weight.T, "b2": ref.linear2.bias})
    params = {k: v.detach().numpy().copy() if torch.is_tensor(v) else v for k, v in params.items()}
    x = np.random.default_rng(5).normal(size=(2, 4, 8))
    y = student.module(MOD).transformer_block_forward(x, params, 2)
    assert_close(y, ref(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-9, name="block output")
