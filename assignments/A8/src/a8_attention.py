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
    # === BEGIN SOLUTION A8.1 ===
    # HINT: np.tril
    mask = np.tril(np.ones((n, n), dtype=bool))
    # === END SOLUTION ===
    return mask


def padding_mask(lengths, n: int) -> np.ndarray:
    """(B, 1, 1, n) boolean mask from the true lengths of B padded sequences: True on the first
    lengths[b] keys of sequence b (real tokens), False on the padding after them. The two
    singleton axes broadcast over heads and queries."""
    lengths = np.asarray(lengths)
    # === BEGIN SOLUTION A8.1 ===
    mask = (np.arange(n)[None, :] < lengths[:, None])[:, None, None, :]
    # === END SOLUTION ===
    return mask


def attention_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask=None):
    """Scaled dot-product attention. Returns (out (..., Lq, Dv), cache), where cache is a dict
    with at least "weights" (..., Lq, Lk), the attention weights P (rows of fully masked
    queries are all 0), and whatever `attention_backward` needs."""
    # === BEGIN SOLUTION A8.2 ===
    # HINT: subtract each row's max before np.exp; a fully masked row has max -inf
    scale = 1.0 / np.sqrt(q.shape[-1])
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.exp(scores - row_max)
    total = e.sum(axis=-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    out = np.matmul(weights, v)
    cache = {"q": q, "k": k, "v": v, "weights": weights, "scale": scale}
    # === END SOLUTION ===
    return out, cache


def attention_backward(dout: np.ndarray, cache: dict):
    """Gradients (dq, dk, dv) of the loss, given dout = dL/d out (..., Lq, Dv) and the cache of
    `attention_forward`. Same shapes as q, k and v."""
    # === BEGIN SOLUTION A8.3 ===
    # HINT: the softmax's backward, row by row: dS = P * (dP - sum_j(dP * P))
    q, k, v, weights, scale = cache["q"], cache["k"], cache["v"], cache["weights"], cache["scale"]
    dv = np.matmul(np.swapaxes(weights, -1, -2), dout)
    dweights = np.matmul(dout, np.swapaxes(v, -1, -2))
    dscores = weights * (dweights - (dweights * weights).sum(axis=-1, keepdims=True))
    dq = np.matmul(dscores, k) * scale
    dk = np.matmul(np.swapaxes(dscores, -1, -2), q) * scale
    # === END SOLUTION ===
    return dq, dk, dv


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(B, L, E) -> (B, H, L, E/H); head h holds features h*E/H ... (h+1)*E/H - 1."""
    # === BEGIN SOLUTION A8.4 ===
    b, n, e = x.shape
    heads = x.reshape(b, n, num_heads, e // num_heads).transpose(0, 2, 1, 3)
    # === END SOLUTION ===
    return heads


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(B, H, L, E/H) -> (B, L, E), the inverse of split_heads."""
    # === BEGIN SOLUTION A8.4 ===
    b, h, n, d = x.shape
    merged = x.transpose(0, 2, 1, 3).reshape(b, n, h * d)
    # === END SOLUTION ===
    return merged


def multihead_attention_forward(x: np.ndarray, params: dict, num_heads: int, mask=None):
    """Multi-head self-attention of x (B, L, E). params: "Wq", "Wk", "Wv", "Wo" (E, E) and
    "bq", "bk", "bv", "bo" (E,). Returns (y (B, L, E), weights (B, H, L, L))."""
    # === BEGIN SOLUTION A8.4 ===
    q = split_heads(x @ params["Wq"] + params["bq"], num_heads)
    k = split_heads(x @ params["Wk"] + params["bk"], num_heads)
    v = split_heads(x @ params["Wv"] + params["bv"], num_heads)
    out, cache = attention_forward(q, k, v, mask)
    y = merge_heads(out) @ params["Wo"] + params["bo"]
    weights = cache["weights"]
    # === END SOLUTION ===
    return y, weights


def transformer_block_forward(x: np.ndarray, params: dict, num_heads: int, mask=None) -> np.ndarray:
    """The pre-LN block on x (B, L, E). params: the attention's (as above), "ln1_weight",
    "ln1_bias", "ln2_weight", "ln2_bias" (E,), "W1" (E, F), "b1" (F,), "W2" (F, E), "b2" (E,).
    Use util.layer_norm(x, weight, bias) and util.gelu(x). Returns y (B, L, E)."""
    # === BEGIN SOLUTION A8.5 ===
    a, _ = multihead_attention_forward(util.layer_norm(x, params["ln1_weight"], params["ln1_bias"]),
                                       params, num_heads, mask)
    h = x + a
    m = util.layer_norm(h, params["ln2_weight"], params["ln2_bias"])
    y = h + util.gelu(m @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    # === END SOLUTION ===
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
