"""A8 part 1: attention and a transformer block by hand, in NumPy.

Conventions (the same as torch's `scaled_dot_product_attention`):

    q (B, H, Lq, D), k (B, H, Lk, D), v (B, H, Lk, Dv)     any leading axes work the same
    mask: boolean, True where query i MAY attend to key j, broadcastable to (B, H, Lq, Lk)
    scores S = q k^T / sqrt(D), masked entries -> -inf, weights P = softmax(S) over the keys,
    output O = P v

A query that may attend to no key at all (a fully masked row) gets weights 0 and output 0,
never NaN. Linear layers use the row-vector convention of A1: y = x @ W + b, W (in, out).

Multi-head attention on x (B, L, E) with H heads (E divisible by H):

    Q = x Wq + bq, K = x Wk + bk, V = x Wv + bv            (B, L, E)
    split each into heads (B, H, L, E/H): head h owns features h*E/H ... (h+1)*E/H - 1
    O = attention(Q, K, V, mask) per head; merge back to (B, L, E); y = O Wo + bo

The pre-LN transformer block (GPT-2's layout):

    h = x + MHA(layer_norm(x; ln1))
    y = h + gelu(layer_norm(h; ln2) W1 + b1) W2 + b2

    python a8_attention.py          # draws the attention maps of a small causal block

writes result/attention_maps.png. Check your work with `dlcc course test A8`.
"""

from __future__ import annotations

import numpy as np

import util


def causal_mask(n: int) -> np.ndarray:
    """(n, n) boolean mask: query i may attend to keys 0 ... i (itself and the past)."""
    # TODO (A8.1): your code here
    # HINT: np.tril
    raise NotImplementedError("A8.1: this part of causal_mask() is not implemented yet")
    return mask


def padding_mask(lengths, n: int) -> np.ndarray:
    """(B, 1, 1, n) boolean mask from the true lengths of B padded sequences: True on the first
    lengths[b] keys of sequence b (real tokens), False on the padding after them. The two
    singleton axes broadcast over heads and queries."""
    lengths = np.asarray(lengths)
    # TODO (A8.1): your code here
    raise NotImplementedError("A8.1: this part of padding_mask() is not implemented yet")
    return mask


def attention_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask=None):
    """Scaled dot-product attention. Returns (out (..., Lq, Dv), cache), where cache is a dict
    with at least "weights" (..., Lq, Lk), the attention weights P (rows of fully masked
    queries are all 0), and whatever `attention_backward` needs."""
    # TODO (A8.2): your code here
    # HINT: subtract each row's max before np.exp; a fully masked row has max -inf
    raise NotImplementedError("A8.2: this part of attention_forward() is not implemented yet")
    return out, cache


def attention_backward(dout: np.ndarray, cache: dict):
    """Gradients (dq, dk, dv) of the loss, given dout = dL/d out (..., Lq, Dv) and the cache of
    `attention_forward`. Same shapes as q, k and v."""
    # TODO (A8.3): your code here
    # HINT: the softmax's backward, row by row: dS = P * (dP - sum_j(dP * P))
    raise NotImplementedError("A8.3: this part of attention_backward() is not implemented yet")
    return dq, dk, dv


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(B, L, E) -> (B, H, L, E/H); head h holds features h*E/H ... (h+1)*E/H - 1."""
    # TODO (A8.4): your code here
    raise NotImplementedError("A8.4: this part of split_heads() is not implemented yet")
    return heads


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(B, H, L, E/H) -> (B, L, E), the inverse of split_heads."""
    # TODO (A8.4): your code here
    raise NotImplementedError("A8.4: this part of merge_heads() is not implemented yet")
    return merged


def multihead_attention_forward(x: np.ndarray, params: dict, num_heads: int, mask=None):
    """Multi-head self-attention of x (B, L, E). params: "Wq", "Wk", "Wv", "Wo" (E, E) and
    "bq", "bk", "bv", "bo" (E,). Returns (y (B, L, E), weights (B, H, L, L))."""
    # TODO (A8.4): your code here
    raise NotImplementedError("A8.4: this part of multihead_attention_forward() is not implemented yet")
    return y, weights


def transformer_block_forward(x: np.ndarray, params: dict, num_heads: int, mask=None) -> np.ndarray:
    """The pre-LN block on x (B, L, E). params: the attention's (as above), "ln1_weight",
    "ln1_bias", "ln2_weight", "ln2_bias" (E,), "W1" (E, F), "b1" (F,), "W2" (F, E), "b2" (E,).
    Use util.layer_norm(x, weight, bias) and util.gelu(x). Returns y (B, L, E)."""
    # TODO (A8.5): your code here
    raise NotImplementedError("A8.5: this part of transformer_block_forward() is not implemented yet")
    return y


def main():
    rng = np.random.default_rng(0)
    tokens = list("attention!")
    e, heads = 16, 4
    params = util.random_block_params(e, 32, rng)
    x = util.sinusoidal_positions(len(tokens), e)[None] + 0.5 * rng.normal(size=(1, len(tokens), e))
    y = transformer_block_forward(x, params, heads, causal_mask(len(tokens)))
    _, weights = multihead_attention_forward(util.layer_norm(x, params["ln1_weight"], params["ln1_bias"]),
                                             params, heads, causal_mask(len(tokens)))
    path = util.plot_attention(weights[0], tokens, util.RESULT_DIR / "attention_maps.png")
    print(f"block output {y.shape}; attention maps of {heads} heads saved to {path}")


if __name__ == "__main__":
    main()
