"""Stateless array functions the layers and losses share: stable softmax, im2col and col2im.

Everything here is vectorized over the batch; the only Python loops run over kernel offsets
(kh * kw iterations), never over samples or pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import expit

sigmoid = expit  # 1 / (1 + exp(-x)) without overflow warnings; keeps float32 as float32


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(x)) computed as (x - max) - log(sum(exp(x - max))): never overflows."""
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along `axis`, shifted by the max so exp never overflows."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output length of a convolution or pooling window along one axis (torch's floor formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pad2d(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of (N, C, H, W) by (ph, pw) on each side; no copy when (0, 0)."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def window_view(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
                dilation: tuple[int, int]) -> np.ndarray:
    """Read-only view (N, C, Ho, Wo, kh, kw) of every window of an already padded (N, C, H, W).

    No data is copied: the view only changes strides.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(xp, span, axis=(2, 3))
    return windows[:, :, ::sh, ::sw, ::dh, ::dw]


def im2col(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int] = (1, 1),
           padding: tuple[int, int] = (0, 0), dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """Unfold the windows of a convolution into the columns of one matrix.

    Args:
        x: (N, C, H, W).

    Returns:
        cols: (C * kh * kw, N * Ho * Wo). Row r = (c, i, j) in C order is input channel c at
        kernel offset (i, j); column q = (n, oh, ow) is one output pixel. Putting the batch in
        the columns turns the whole convolution into a single large matrix product (faster
        than one product per sample), and a group of channels is a contiguous block of rows.
    """
    xp = pad2d(x, padding)
    windows = window_view(xp, kernel, stride, dilation)        # (N, C, Ho, Wo, kh, kw)
    n, c, ho, wo, kh, kw = windows.shape
    # The one copy of the im2col method: gather every window into contiguous rows.
    cols = np.ascontiguousarray(windows.transpose(1, 4, 5, 0, 2, 3))  # (C, kh, kw, N, Ho, Wo)
    return cols.reshape(c * kh * kw, n * ho * wo)


def col2im(cols: np.ndarray, x_shape: tuple[int, int, int, int], kernel: tuple[int, int],
           stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0),
           dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """Adjoint of `im2col`: add every column entry back onto the input pixel it came from.

    Args:
        cols: (C * kh * kw, N * Ho * Wo), laid out as `im2col` returns.
        x_shape: (N, C, H, W) of the unpadded input.

    Returns:
        (N, C, H, W). Overlapping windows sum. One strided slice-add per kernel offset
        (kh * kw of them), which is far faster than np.add.at's scattered writes.
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    ho = conv_output_size(h, kh, sh, ph, dh)
    wo = conv_output_size(w, kw, sw, pw, dw)
    blocks = cols.reshape(c, kh, kw, n, ho, wo)
    # Accumulate channel-major so each slice-add reads a contiguous block of `blocks`.
    out = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            out[:, :, rows, j * dw:j * dw + sw * (wo - 1) + 1:sw] += blocks[:, i, j]
    return np.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3))


def offset_slices(i: int, j: int, out_hw: tuple[int, int], stride: tuple[int, int],
                  dilation: tuple[int, int]) -> tuple[slice, slice, slice, slice]:
    """Index of kernel offset (i, j) across all windows of a padded (N, C, H, W) array.

    `xp[offset_slices(...)]` has shape (N, C, Ho, Wo): element (n, c, oh, ow) is the pixel that
    window (oh, ow) sees at offset (i, j). Pooling loops over the kh * kw offsets with it.
    """
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))
