"""Attention masks: which keys each query may look at.

One convention inside the engine, torch's `scaled_dot_product_attention` one: a boolean
"allowed" mask, True where query i may attend to key j, broadcastable to the score shape
(*, Lq, Lk). The helpers below build the two common masks and combine them:

    causal_mask(5)                         # (5, 5): query i sees keys 0..i (a decoder)
    padding_mask(lengths=[3, 5], 5)        # (2, 1, 1, 5): the padded keys of each sequence are off
    combine_masks(causal, padding)         # (2, 1, 5, 5): both (logical and)

`MultiheadAttention` also takes torch's module-level conventions (`key_padding_mask` True =
padding, ignore it; boolean `attn_mask` True = NOT allowed) and converts them with
`from_torch_module_masks`, so code written for torch.nn.MultiheadAttention reads the same here.
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import InputError


def causal_mask(lq: int, lk: int | None = None) -> np.ndarray:
    """(Lq, Lk) bool, True on and below the diagonal: query i may see keys 0..i.

    With Lk != Lq the diagonal starts at the top-left corner, as torch's `is_causal` does.
    """
    lk = lq if lk is None else lk
    return np.tril(np.ones((lq, lk), dtype=bool))


def padding_mask(lengths, lk: int) -> np.ndarray:
    """(B, 1, 1, Lk) bool from the true length of each of B sequences: True on real keys.

    The two singleton axes broadcast over heads and queries of scores (B, H, Lq, Lk).
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or (lengths < 0).any() or (lengths > lk).any():
        raise InputError(f"padding_mask: lengths must be a 1-D array of integers in [0, {lk}], "
                         f"got {lengths.tolist()!r}")
    return (np.arange(lk)[None, :] < lengths[:, None])[:, None, None, :]


def combine_masks(*masks: np.ndarray | None) -> np.ndarray | None:
    """Logical and of boolean allowed-masks (None entries are skipped; all None gives None)."""
    out = None
    for mask in masks:
        if mask is None:
            continue
        mask = np.asarray(mask, dtype=bool)
        out = mask if out is None else np.logical_and(out, mask)
    return out


def from_torch_module_masks(batch: int, heads: int, lq: int, lk: int, key_padding_mask=None,
                            attn_mask=None, is_causal: bool = False) -> np.ndarray | None:
    """torch.nn.MultiheadAttention's masks as one allowed-mask broadcastable to (B, H, Lq, Lk).

    Args:
        key_padding_mask: (B, Lk) bool, True = padding (ignored key), or float added to scores
            (then the result is float, an additive mask).
        attn_mask: (Lq, Lk) or (B * H, Lq, Lk) bool, True = NOT allowed, or float (additive).
        is_causal: also apply `causal_mask(lq, lk)`.

    Returns:
        bool (True = allowed) when every mask given is boolean, else a float additive mask with
        -inf where a boolean mask forbids; None when there is no mask.
    """
    parts = []
    if key_padding_mask is not None:
        kpm = np.asarray(key_padding_mask)
        if kpm.shape != (batch, lk):
            raise InputError(f"MultiheadAttention: key_padding_mask has shape {kpm.shape}, "
                             f"expected (batch, key length) = {(batch, lk)}")
        parts.append(_allowed_or_additive(kpm, invert=True).reshape(batch, 1, 1, lk))
    if attn_mask is not None:
        am = np.asarray(attn_mask)
        if am.shape == (lq, lk):
            am = am.reshape(1, 1, lq, lk)
        elif am.shape == (batch * heads, lq, lk):
            am = am.reshape(batch, heads, lq, lk)
        else:
            raise InputError(f"MultiheadAttention: attn_mask has shape {am.shape}, expected "
                             f"{(lq, lk)} or {(batch * heads, lq, lk)}")
        parts.append(_allowed_or_additive(am, invert=True))
    if is_causal:
        parts.append(causal_mask(lq, lk))
    if not parts:
        return None
    if all(p.dtype == bool for p in parts):
        return combine_masks(*parts)
    total = np.zeros((1, 1, 1, 1))
    for p in parts:   # mixed: booleans become 0 / -inf and everything adds
        total = total + (np.where(p, 0.0, -np.inf) if p.dtype == bool else p)
    return total


def _allowed_or_additive(mask: np.ndarray, invert: bool) -> np.ndarray:
    if mask.dtype == bool:
        return ~mask if invert else mask
    if mask.dtype.kind != "f":
        raise InputError(f"attention mask has dtype {mask.dtype}, expected bool or float",
                         fix="pass a boolean mask (True = padding / not allowed) or an additive float mask")
    return mask
