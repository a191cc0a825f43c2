"""Scaled dot-product attention, forward and hand-written backward.

    scores  S = Q K^T * scale (+ additive mask, or -inf where a boolean mask forbids)   (*, Lq, Lk)
    weights P = softmax(S) over keys                                                    (*, Lq, Lk)
    output  O = dropout(P) V                                                            (*, Lq, Dv)

Shapes: q (*, Lq, D), k (*, Lk, D), v (*, Lk, Dv); the leading axes (batch, heads) broadcast.
scale defaults to 1/sqrt(D): it keeps the variance of the scores near 1 when q and k have unit
variance, so the softmax does not saturate as D grows.

Backward, for upstream dO:
    dV = P'^T dO,  dP' = dO V^T,  dP = dP' * dropout mask / (1 - p)
    dS = P * (dP - sum_j(dP * P))         (the softmax Jacobian, applied row by row)
    dQ = dS K * scale,  dK = dS^T Q * scale

A fully masked row (a query with no key it may see, e.g. a padded query under a causal +
padding mask) gets weights 0, output 0 and gradient 0, the same as torch's
`scaled_dot_product_attention`, instead of the 0/0 = NaN a plain softmax would give.
Memory: the weights P (*, Lq, Lk) are cached for backward (Lq * Lk numbers per head).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import check_array
from dlcc.scratch.layers.masks import causal_mask, combine_masks


@dataclass
class AttentionCache:
    """What backward needs: the inputs, the weights before and after dropout, the scale."""

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    weights: np.ndarray          # P, after masking and softmax (rows of a fully masked query are 0)
    dropped: np.ndarray          # P after dropout (P itself when there is none)
    keep: np.ndarray | None      # dropout mask / (1 - p), or None
    scale: float


def attention_scores(q: np.ndarray, k: np.ndarray, scale: float, mask=None) -> np.ndarray:
    """S = q k^T * scale with the mask applied: (*, Lq, Lk); forbidden entries are -inf.

    mask: bool (True = allowed) or float (added), broadcastable to (*, Lq, Lk).
    """
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    if mask is None:
        return scores
    mask = np.asarray(mask)
    try:
        if mask.dtype == bool:
            return np.where(mask, scores, -np.inf)
        return scores + mask.astype(scores.dtype, copy=False)
    except ValueError as err:
        raise InputError(f"attention: mask of shape {mask.shape} does not broadcast to the "
                         f"scores' shape {scores.shape} (*, Lq, Lk)") from err


def masked_softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis where -inf means "not allowed"; an all -inf row gives zeros."""
    row_max = scores.max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)   # a fully masked row: shift by 0
    e = np.exp(scores - row_max)                             # exp(-inf) = 0 for masked keys
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def scaled_dot_product_attention(q, k, v, mask=None, *, is_causal: bool = False,
                                 scale: float | None = None, dropout_p: float = 0.0,
                                 rng: np.random.Generator | None = None):
    """Attention of q over (k, v); returns (output (*, Lq, Dv), cache for the backward).

    Args:
        mask: bool allowed-mask (True = may attend) or float additive mask, broadcastable to
            (*, Lq, Lk); torch's `attn_mask` convention for this function.
        is_causal: also forbid keys after the query (`causal_mask(Lq, Lk)`).
        scale: defaults to 1 / sqrt(D).
        dropout_p, rng: dropout on the weights (needs a Generator when dropout_p > 0).
    """
    q = check_array("attention", q, name="q")
    k = check_array("attention", k, name="k")
    v = check_array("attention", v, name="v")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2] or min(q.ndim, k.ndim, v.ndim) < 2:
        raise InputError(f"attention: q {q.shape}, k {k.shape}, v {v.shape} do not fit: expected "
                         "q (*, Lq, D), k (*, Lk, D), v (*, Lk, Dv)")
    if not 0.0 <= dropout_p < 1.0:
        raise ConfigError(f"attention: dropout_p must be in [0, 1), got {dropout_p!r}")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    if is_causal:
        causal = causal_mask(q.shape[-2], k.shape[-2])
        if mask is None or np.asarray(mask).dtype == bool:
            mask = combine_masks(mask, causal)
        else:
            mask = np.asarray(mask) + np.where(causal, 0.0, -np.inf)
    weights = masked_softmax(attention_scores(q, k, scale, mask))
    keep = None
    dropped = weights
    if dropout_p > 0.0:
        if rng is None:
            raise ConfigError("attention: dropout_p > 0 needs rng (a np.random.Generator)")
        keep = (rng.random(weights.shape) >= dropout_p) / (1.0 - dropout_p)
        dropped = weights * keep.astype(weights.dtype)
    out = np.matmul(dropped, v)
    return out, AttentionCache(q, k, v, weights, dropped, keep, scale)


def scaled_dot_product_attention_backward(dout: np.ndarray, cache: AttentionCache):
    """Gradients (dq, dk, dv) of the attention whose cache is given; dout (*, Lq, Dv).

    Broadcast leading axes are summed back to each input's own shape.
    """
    c = cache
    dv = np.matmul(np.swapaxes(c.dropped, -1, -2), dout)
    dp = np.matmul(dout, np.swapaxes(c.v, -1, -2))
    if c.keep is not None:
        dp = dp * c.keep
    # Softmax backward: masked entries have P = 0, so their score gradient is 0 too.
    ds = c.weights * (dp - (dp * c.weights).sum(axis=-1, keepdims=True))
    dq = np.matmul(ds, c.k) * c.scale
    dk = np.matmul(np.swapaxes(ds, -1, -2), c.q) * c.scale
    return _unbroadcast(dq, c.q.shape), _unbroadcast(dk, c.k.shape), _unbroadcast(dv, c.v.shape)


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the leading axes that broadcasting added or stretched."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad
