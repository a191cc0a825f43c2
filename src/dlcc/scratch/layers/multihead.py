"""Multi-head attention with torch.nn.MultiheadAttention's parameters, masks and layouts.

    Q = query Wq^T + bq,  K = key Wk^T + bk,  V = value Wv^T + bv      (B, L, E) each
    split E into H heads of E/H:  (B, L, E) -> (B, H, L, E/H)
    O_h = attention(Q_h, K_h, V_h) per head (scaled by 1/sqrt(E/H))
    merge the heads back to (B, Lq, E), then y = O Wo^T + bo

Each head attends in its own E/H-dimensional subspace, so H heads cost what one head of
width E costs but can look at H different things. Params (torch's state_dict keys):
in_proj_weight (3E, E) = [Wq; Wk; Wv], in_proj_bias (3E,), out_proj.weight (E, E),
out_proj.bias (E,); init as torch: xavier-uniform in_proj, zero biases, out_proj weight
U(-1/sqrt(E), 1/sqrt(E)).
"""

from __future__ import annotations

import math

import numpy as np

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import Module, check_array
from dlcc.scratch.layers._util import as_rng, cached, check_grad, positive_int
from dlcc.scratch.layers.attention import (scaled_dot_product_attention,
                                           scaled_dot_product_attention_backward)
from dlcc.scratch.layers.linear import Linear
from dlcc.scratch.layers.masks import from_torch_module_masks


def split_heads(x: np.ndarray, heads: int) -> np.ndarray:
    """(B, L, E) -> (B, H, L, E/H): head h owns features h*E/H .. (h+1)*E/H - 1."""
    b, n, e = x.shape
    return x.reshape(b, n, heads, e // heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(B, H, L, E/H) -> (B, L, E); the inverse of `split_heads`."""
    b, h, n, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, n, h * d)


class MultiheadAttention(Module):
    """Multi-head attention; forward returns the output only (the weights stay in `attn_weights`).

    Shapes (batch_first=False, torch's default): query (Lq, B, E), key and value (Lk, B, E)
    -> (Lq, B, E); with batch_first=True (B, L, E); unbatched (L, E) also works.
    `forward(query, key=None, value=None, key_padding_mask=None, attn_mask=None, is_causal=False)`:
    key defaults to query (self-attention) and value to key. Masks follow torch's module:
    key_padding_mask (B, Lk) True = padding; attn_mask (Lq, Lk) or (B*H, Lq, Lk) True = not
    allowed (or float masks, added to the scores); is_causal adds the causal mask itself.
    `attn_weights` after forward: (B, H, Lq, Lk), every head's weights (torch averages them).
    `backward(dy)` returns dquery when key and value were not given, (dquery, dkey) when only
    value was not given, else (dquery, dkey, dvalue); it fills grads like every layer.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, *, rng: np.random.Generator | int | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        self.embed_dim = positive_int("MultiheadAttention", "embed_dim", embed_dim)
        self.num_heads = positive_int("MultiheadAttention", "num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ConfigError(f"MultiheadAttention: embed_dim {embed_dim} is not divisible by "
                              f"num_heads {num_heads}", fix="choose num_heads that divides embed_dim")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout!r}")
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.rng = as_rng(rng)
        e = self.embed_dim
        bound = math.sqrt(6.0 / (e + 3 * e))   # xavier_uniform_ of the (3E, E) matrix, as torch
        self.params["in_proj_weight"] = self.rng.uniform(-bound, bound, (3 * e, e)).astype(dtype)
        if bias:
            self.params["in_proj_bias"] = np.zeros(3 * e, dtype=dtype)
        self.out_proj = Linear(e, e, bias=bias, rng=self.rng, dtype=dtype)
        if bias:
            self.out_proj.params["bias"][...] = 0
        self.children = [self.out_proj]
        self.attn_weights: np.ndarray | None = None
        self._cache = None

    def child_name(self, index: int) -> str:
        return "out_proj"

    def _desc(self) -> str:
        return f"MultiheadAttention({self.embed_dim}, heads={self.num_heads})"

    # --- layout: everything inside runs batch first ----------------------------------------
    def _to_batch_first(self, x, name: str) -> np.ndarray:
        x = check_array(self._desc(), x, ndim=(2, 3), last_dim=self.embed_dim, name=name)
        if x.dtype != self.params["in_proj_weight"].dtype:
            x = x.astype(self.params["in_proj_weight"].dtype)
        if x.ndim == 2:
            return x[None]
        return x if self.batch_first else x.transpose(1, 0, 2)

    def _from_batch_first(self, y: np.ndarray, unbatched: bool) -> np.ndarray:
        if unbatched:
            return y[0]
        return y if self.batch_first else y.transpose(1, 0, 2)

    def _project(self, x: np.ndarray, part: int) -> np.ndarray:
        e = self.embed_dim
        out = np.matmul(x, self.params["in_proj_weight"][part * e:(part + 1) * e].T)
        if "in_proj_bias" in self.params:
            out = out + self.params["in_proj_bias"][part * e:(part + 1) * e]
        return out

    def forward(self, query, key=None, value=None, key_padding_mask=None, attn_mask=None,
                is_causal: bool = False) -> np.ndarray:
        given = 1 if key is None else (2 if value is None else 3)
        key = query if key is None else key
        value = key if value is None else value
        unbatched = np.ndim(query) == 2
        if np.ndim(key) != np.ndim(query) or np.ndim(value) != np.ndim(query):
            raise InputError(f"{self._desc()}: query, key and value must all be batched (3-D) "
                             f"or all unbatched (2-D), got {np.ndim(query)}, {np.ndim(key)}, {np.ndim(value)}-D")
        q_in = self._to_batch_first(query, "query")
        k_in = self._to_batch_first(key, "key")
        v_in = self._to_batch_first(value, "value")
        b, lq, lk = q_in.shape[0], q_in.shape[1], k_in.shape[1]
        if k_in.shape != v_in.shape or k_in.shape[0] != b:
            raise InputError(f"{self._desc()}: query {np.shape(query)}, key {np.shape(key)} and value "
                             f"{np.shape(value)} must share the batch size, key and value their length")
        if unbatched and key_padding_mask is not None:
            key_padding_mask = np.asarray(key_padding_mask).reshape(1, -1)
        mask = from_torch_module_masks(b, self.num_heads, lq, lk, key_padding_mask, attn_mask, is_causal)
        h = self.num_heads
        qh = split_heads(self._project(q_in, 0), h)
        kh = split_heads(self._project(k_in, 1), h)
        vh = split_heads(self._project(v_in, 2), h)
        p = self.dropout if self.training else 0.0
        out, att = scaled_dot_product_attention(qh, kh, vh, mask, dropout_p=p, rng=self.rng)
        self.attn_weights = att.weights
        y = self.out_proj.forward(merge_heads(out))
        self._cache = (q_in, k_in, v_in, att, given, unbatched)
        return self._from_batch_first(y, unbatched)

    def backward(self, dy: np.ndarray):
        q_in, k_in, v_in, att, given, unbatched = cached(self._desc(), self._cache)
        dtype = self.params["in_proj_weight"].dtype
        shape = (q_in.shape[1], self.embed_dim) if unbatched else \
            ((q_in.shape[0], q_in.shape[1], self.embed_dim) if self.batch_first
             else (q_in.shape[1], q_in.shape[0], self.embed_dim))
        dy = check_grad(self._desc(), dy, shape, dtype)
        dy = dy[None] if unbatched else (dy if self.batch_first else dy.transpose(1, 0, 2))
        dmerged = self.out_proj.backward(dy)
        dqh, dkh, dvh = scaled_dot_product_attention_backward(split_heads(dmerged, self.num_heads), att)
        e = self.embed_dim
        w = self.params["in_proj_weight"]
        dw = np.empty_like(w)
        db = np.empty(3 * e, dtype=dtype)
        dinputs = []
        for part, (dproj, x) in enumerate(((merge_heads(dqh), q_in), (merge_heads(dkh), k_in),
                                           (merge_heads(dvh), v_in))):
            rows = slice(part * e, (part + 1) * e)
            d2 = dproj.reshape(-1, e)
            dw[rows] = np.matmul(d2.T, x.reshape(-1, e))
            db[rows] = d2.sum(axis=0)
            dinputs.append(np.matmul(dproj, w[rows]))
        self.grads["in_proj_weight"] = dw
        if "in_proj_bias" in self.params:
            self.grads["in_proj_bias"] = db
        dq, dk, dv = (self._from_batch_first(d, unbatched) for d in dinputs)
        if given == 1:
            return dq + dk + dv
        if given == 2:
            return dq, dk + dv
        return dq, dk, dv

    def __repr__(self) -> str:
        return (f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first})")
