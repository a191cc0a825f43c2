"""2-D max and average pooling, vectorized by looping over the kh * kw kernel offsets.

Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = floor((H + 2p - d (k - 1) - 1) / s) + 1
(torch's formula with ceil_mode=False). Both keep the input's dtype.
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import Module, check_array
from dlcc.scratch.functional import conv_output_size, offset_slices, pad2d
from dlcc.scratch.layers._util import cached, check_grad, pair


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(name, "kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else pair(name, "stride", stride)
        self.padding = pair(name, "padding", padding, minimum=0)
        self.dilation = pair(name, "dilation", dilation)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size)):
            # torch's rule; it also guarantees every window holds at least one real pixel.
            raise ConfigError(f"{name}: padding {self.padding} must be at most half the kernel "
                              f"size {self.kernel_size}")
        self._cache = None

    def _desc(self) -> str:
        kh, kw = self.kernel_size
        return f"{type(self).__name__}(kernel {kh}x{kw}, stride {self.stride})"

    def _check(self, x) -> tuple[np.ndarray, tuple[int, int]]:
        x = check_array(self._desc(), x, ndim=4)
        out_hw = tuple(conv_output_size(size, k, s, p, d) for size, k, s, p, d in zip(
            x.shape[2:], self.kernel_size, self.stride, self.padding, self.dilation))
        if min(out_hw) < 1:
            raise InputError(f"{self._desc()}: input of shape {x.shape} is smaller than the window",
                             fix="use a larger input or a smaller kernel_size")
        return x, out_hw

    def _offsets(self, out_hw):
        """(k, slices) for each kernel offset, row-major (the order torch scans a window)."""
        kh, kw = self.kernel_size
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, offset_slices(i, j, out_hw, self.stride, self.dilation)

    def _crop(self, dxp: np.ndarray) -> np.ndarray:
        (ph, pw), (h, w) = self.padding, dxp.shape[2:]
        return dxp[:, :, ph:h - ph, pw:w - pw]


class MaxPool2d(_Pool2d):
    """Maximum over each window. Padding counts as -inf, as in torch.

    Backward routes each output gradient to one input: the first maximum of its window in
    row-major order (torch's choice on ties). Overlapping windows add up.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, out_hw = self._check(x)
        xp = pad2d(x, self.padding, value=-np.inf)
        out = idx = None
        for k, where in self._offsets(out_hw):
            candidate = xp[where]
            if out is None:
                out = candidate.copy()
                idx = np.zeros(out.shape, dtype=np.int32)
                continue
            better = candidate > out          # strict: an earlier equal maximum keeps the win
            np.copyto(out, candidate, where=better)
            idx[better] = k
        self._cache = (idx, xp.shape, x.dtype)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        idx, padded_shape, dtype = cached(self._desc(), self._cache)
        dy = check_grad(self._desc(), dy, idx.shape, dtype)
        dxp = np.zeros(padded_shape, dtype=dtype)
        for k, where in self._offsets(idx.shape[2:]):
            dxp[where] += dy * (idx == k)
        return self._crop(dxp)

    def __repr__(self) -> str:
        return (f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation})")


class AvgPool2d(_Pool2d):
    """Mean over each window.

    count_include_pad=True (torch's default) divides by kh * kw everywhere; False divides by
    the number of real (unpadded) pixels in the window. divisor_override fixes the divisor.
    """

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = count_include_pad
        if divisor_override is not None and divisor_override < 1:
            raise ConfigError(f"AvgPool2d: divisor_override must be positive, got {divisor_override!r}")
        self.divisor_override = divisor_override

    def _divisor(self, h: int, w: int, out_hw, dtype):
        """Scalar, or (Ho, Wo) counts of real pixels per window."""
        kh, kw = self.kernel_size
        if self.divisor_override is not None:
            return dtype.type(self.divisor_override)
        if self.count_include_pad or self.padding == (0, 0):
            return dtype.type(kh * kw)
        real = pad2d(np.ones((1, 1, h, w), dtype=dtype), self.padding)
        return sum(real[where] for _, where in self._offsets(out_hw))[0, 0]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, out_hw = self._check(x)
        xp = pad2d(x, self.padding)
        total = np.zeros(x.shape[:2] + out_hw, dtype=x.dtype)
        for _, where in self._offsets(out_hw):
            total += xp[where]
        divisor = self._divisor(*x.shape[2:], out_hw, x.dtype)
        self._cache = (xp.shape, out_hw, divisor, x.dtype)
        return total / divisor

    def backward(self, dy: np.ndarray) -> np.ndarray:
        padded_shape, out_hw, divisor, dtype = cached(self._desc(), self._cache)
        dy = check_grad(self._desc(), dy, padded_shape[:2] + out_hw, dtype)
        share = dy / divisor
        dxp = np.zeros(padded_shape, dtype=dtype)
        for _, where in self._offsets(out_hw):
            dxp[where] += share
        return self._crop(dxp)

    def __repr__(self) -> str:
        return (f"AvgPool2d(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding})")
