"""2-D convolution (cross-correlation, as in torch) through im2col and one matrix product."""

from __future__ import annotations

import numpy as np

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import Module, check_array
from dlcc.scratch.functional import col2im, conv_output_size, im2col
from dlcc.scratch.layers._util import as_rng, cached, check_grad, pair, positive_int, uniform


class Conv2d(Module):
    """y[n, o] = bias[o] + sum_c weight[o, c] (*) x[n, c], with stride, zero padding, dilation
    and groups exactly as torch.nn.Conv2d.

    Shapes: x (N, C_in, H, W) -> y (N, C_out, Ho, Wo), Ho = floor((H + 2p - d (kh - 1) - 1) / s) + 1.
    Params: weight (C_out, C_in / groups, kh, kw), bias (C_out,); default init torch's
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_in / groups * kh * kw.
    `padding` is an int, a pair, "valid" (0) or "same" (stride 1, odd effective kernel).

    Forward caches the im2col matrix (C_in kh kw, N Ho Wo) for the weight gradient; that is the
    memory cost of this method (about kh * kw times the input).
    """

    can_skip_input_grad = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, *,
                 rng: np.random.Generator | int | None = None, dtype=np.float32) -> None:
        super().__init__()
        self.in_channels = positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = positive_int("Conv2d", "out_channels", out_channels)
        self.groups = positive_int("Conv2d", "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ConfigError(f"Conv2d: in_channels ({in_channels}) and out_channels "
                              f"({out_channels}) must both be divisible by groups ({groups})")
        self.kernel_size = pair("Conv2d", "kernel_size", kernel_size)
        self.stride = pair("Conv2d", "stride", stride)
        self.dilation = pair("Conv2d", "dilation", dilation)
        self.padding = self._resolve_padding(padding)
        kh, kw = self.kernel_size
        fan_in = self.in_channels // self.groups * kh * kw
        bound = 1.0 / np.sqrt(fan_in)
        rng = as_rng(rng)
        shape = (self.out_channels, self.in_channels // self.groups, kh, kw)
        self.params["weight"] = uniform(rng, shape, bound, dtype)
        if bias:
            self.params["bias"] = uniform(rng, (self.out_channels,), bound, dtype)
        self._cache = None

    def _resolve_padding(self, padding) -> tuple[int, int]:
        if padding == "valid":
            return (0, 0)
        if padding == "same":
            if self.stride != (1, 1):
                raise ConfigError("Conv2d: padding='same' needs stride 1, got stride "
                                  f"{self.stride}", fix="give padding as a number instead")
            spans = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            if any(s % 2 for s in spans):
                raise ConfigError("Conv2d: padding='same' with an even kernel span needs uneven "
                                  "padding, which this layer does not do",
                                  fix="use an odd kernel_size, or pad explicitly")
            return (spans[0] // 2, spans[1] // 2)
        return pair("Conv2d", "padding", padding, minimum=0)

    def _desc(self) -> str:
        kh, kw = self.kernel_size
        return f"Conv2d({self.in_channels} -> {self.out_channels}, kernel {kh}x{kw})"

    def output_shape(self, x_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        n, _, h, w = x_shape
        ho, wo = (conv_output_size(size, k, s, p, d) for size, k, s, p, d in zip(
            (h, w), self.kernel_size, self.stride, self.padding, self.dilation))
        return (n, self.out_channels, ho, wo)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = check_array(self._desc(), x, ndim=4, dim=(1, self.in_channels))
        weight = self.params["weight"]
        if x.dtype != weight.dtype:
            x = x.astype(weight.dtype)
        out_shape = self.output_shape(x.shape)
        if out_shape[2] < 1 or out_shape[3] < 1:
            raise InputError(f"{self._desc()}: input of shape {x.shape} is smaller than the "
                             f"kernel (dilation {self.dilation}, padding {self.padding})",
                             fix="use a larger input, more padding, or a smaller kernel")
        n, o, ho, wo = out_shape
        g = self.groups
        cols = im2col(x, self.kernel_size, self.stride, self.padding, self.dilation)
        cols_g = cols.reshape(g, -1, cols.shape[1])               # (g, C/g kh kw, N Ho Wo)
        w_g = weight.reshape(g, o // g, -1)                       # (g, O/g, C/g kh kw)
        y = np.matmul(w_g, cols_g).reshape(o, n * ho * wo)
        if "bias" in self.params:
            y += self.params["bias"][:, None]
        self._cache = (cols, x.shape)
        # (O, N, Ho, Wo) -> (N, O, Ho, Wo); copied so callers get a normal C-ordered array.
        return np.ascontiguousarray(y.reshape(o, n, ho, wo).transpose(1, 0, 2, 3))

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dy: (N, C_out, Ho, Wo) -> dx: (N, C_in, H, W) (None when input_grad is False)."""
        cols, x_shape = cached(self._desc(), self._cache)
        weight = self.params["weight"]
        n, o, ho, wo = self.output_shape(x_shape)
        dy = check_grad(self._desc(), dy, (n, o, ho, wo), weight.dtype)
        g = self.groups
        # Same (O, N Ho Wo) layout as the forward product, so each gradient is one product.
        dy_mat = np.ascontiguousarray(dy.transpose(1, 0, 2, 3)).reshape(g, o // g, n * ho * wo)
        cols_g = cols.reshape(g, -1, cols.shape[1])
        self.grads["weight"] = np.matmul(dy_mat, cols_g.transpose(0, 2, 1)).reshape(weight.shape)
        if "bias" in self.params:
            self.grads["bias"] = dy_mat.reshape(o, -1).sum(axis=1)
        if not input_grad:
            return None
        w_g = weight.reshape(g, o // g, -1)
        dcols = np.matmul(w_g.transpose(0, 2, 1), dy_mat).reshape(cols.shape)
        return col2im(dcols, x_shape, self.kernel_size, self.stride, self.padding, self.dilation)

    def __repr__(self) -> str:
        extra = "".join([f", stride={self.stride}" if self.stride != (1, 1) else "",
                         f", padding={self.padding}" if self.padding != (0, 0) else "",
                         f", dilation={self.dilation}" if self.dilation != (1, 1) else "",
                         f", groups={self.groups}" if self.groups != 1 else "",
                         ", bias=False" if "bias" not in self.params else ""])
        return (f"Conv2d({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}{extra})")
