"""Normalization layers: BatchNorm1d, BatchNorm2d and LayerNorm, with torch's semantics.

Both normalize xhat = (x - mean) / sqrt(var + eps) with the biased variance and then apply
y = weight * xhat + bias. They differ in the axes the statistics run over: BatchNorm over the
batch (and spatial) axes per channel, LayerNorm over the trailing `normalized_shape` per sample.
The backward of both is the same closed form over those axes (n values each):

    dx = (1/n) * invstd * (n * g - sum(g) - xhat * sum(g * xhat)),   g = dy * weight
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import Module, check_array
from dlcc.scratch.layers._util import cached, check_grad, positive_int


def _array_dtype(layer: Module) -> np.dtype:
    """The dtype of the layer's params/buffers (follows Module.astype), else its own setting."""
    for array in list(layer.params.values()) + list(getattr(layer, "buffers", {}).values()):
        return array.dtype
    return layer._own_dtype


def _normalized_backward(g: np.ndarray, xhat: np.ndarray, invstd: np.ndarray,
                         axes: tuple[int, ...], sum_g=None, sum_gx=None) -> np.ndarray:
    """dL/dx of xhat = (x - mean(x)) * invstd, given g = dL/dxhat; sums over `axes`."""
    n = xhat.size // invstd.size
    if sum_g is None:
        sum_g = g.sum(axis=axes, keepdims=True)
    if sum_gx is None:
        sum_gx = (g * xhat).sum(axis=axes, keepdims=True)
    scale = invstd / n
    return scale * (n * g - sum_g - xhat * sum_gx)


class _BatchNorm(Module):
    """Shared BatchNorm machinery; subclasses set the allowed input ranks."""

    ranks: tuple[int, ...] = ()
    shape_doc = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 dtype=np.float32) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(name, "num_features", num_features)
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ConfigError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.eps, self.momentum = float(eps), momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        c = self.num_features
        if affine:
            self.params["weight"] = np.ones(c, dtype=dtype)
            self.params["bias"] = np.zeros(c, dtype=dtype)
        self.buffers: dict[str, np.ndarray] = {}
        if track_running_stats:
            self.buffers["running_mean"] = np.zeros(c, dtype=dtype)
            self.buffers["running_var"] = np.ones(c, dtype=dtype)
        # Not a buffer here: base.load_state_dict skips torch's num_batches_tracked key.
        self.num_batches_tracked = 0
        self._cache = None
        self._own_dtype = np.dtype(dtype)   # used only when there are no arrays (affine=False, no stats)

    @property
    def _dtype(self) -> np.dtype:
        return _array_dtype(self)

    def _desc(self) -> str:
        return f"{type(self).__name__}({self.num_features})"

    def _stat_axes(self, ndim: int) -> tuple[int, ...]:
        return (0,) + tuple(range(2, ndim))

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = check_array(self._desc(), x, ndim=self.ranks, dim=(1, self.num_features))
        if x.dtype != self._dtype:
            x = x.astype(self._dtype)
        axes = self._stat_axes(x.ndim)
        bshape = (1, self.num_features) + (1,) * (x.ndim - 2)   # broadcast per channel
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            n = x.size // self.num_features
            if n < 2 and self.training:
                raise InputError(f"{self._desc()}: input of shape {x.shape} has {n} value per "
                                 "channel; batch statistics need at least 2 in training mode",
                                 fix="use a batch size > 1, or call .eval() to use running statistics")
            mean = x.mean(axis=axes)
            xc = x - mean.reshape(bshape)
            var = np.mean(xc * xc, axis=axes)
            if self.training and self.track_running_stats:
                self._update_running(mean, var, n)
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
            xc = x - mean.reshape(bshape)
        invstd = (1.0 / np.sqrt(var + self.eps)).astype(self._dtype).reshape(bshape)
        xhat = xc * invstd
        self._cache = (xhat, invstd, axes, use_batch)
        if not self.affine:
            return xhat
        return xhat * self.params["weight"].reshape(bshape) + self.params["bias"].reshape(bshape)

    def _update_running(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        self.num_batches_tracked += 1
        m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        # torch stores the unbiased variance in running_var but normalizes with the biased one.
        for key, value in (("running_mean", mean), ("running_var", var * (n / (n - 1)))):
            buf = self.buffers[key]
            buf *= 1.0 - m          # in place, so references to the buffer stay valid
            buf += m * value

    def backward(self, dy: np.ndarray) -> np.ndarray:
        xhat, invstd, axes, use_batch = cached(self._desc(), self._cache)
        dy = check_grad(self._desc(), dy, xhat.shape, self._dtype)
        bshape = invstd.shape
        sum_dy = dy.sum(axis=axes)
        sum_dy_xhat = (dy * xhat).sum(axis=axes)
        if self.affine:
            self.grads["weight"] = sum_dy_xhat
            self.grads["bias"] = sum_dy
            w = self.params["weight"].reshape(bshape)
            g = dy * w
        else:
            w, g = None, dy
        if not use_batch:   # eval mode: mean and var are constants
            return g * invstd
        # sum(g) and sum(g * xhat) are the parameter gradients times weight: reuse them.
        sum_g = sum_dy.reshape(bshape) * (w if w is not None else 1)
        sum_gx = sum_dy_xhat.reshape(bshape) * (w if w is not None else 1)
        return _normalized_backward(g, xhat, invstd, axes, sum_g, sum_gx)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats})")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C.

    Params: weight (C,) ones, bias (C,) zeros. Buffers: running_mean (C,), running_var (C,).
    Training normalizes with the batch statistics and updates the running ones with `momentum`
    (running = (1 - momentum) * running + momentum * batch; momentum=None is a cumulative
    average); eval mode normalizes with the running statistics.
    """

    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) inputs, per channel C; otherwise as BatchNorm1d."""

    ranks = (4,)


class LayerNorm(Module):
    """Normalize each sample over its trailing `normalized_shape` axes.

    Shapes: x (*, *normalized_shape) -> same. Params (elementwise_affine): weight and bias of
    shape normalized_shape (ones and zeros). Same in training and eval mode.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, *, dtype=np.float32) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(positive_int("LayerNorm", "normalized_shape", s) for s in shape)
        if not self.normalized_shape:
            raise ConfigError("LayerNorm: normalized_shape must name at least one axis")
        self.eps = float(eps)
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.params["weight"] = np.ones(self.normalized_shape, dtype=dtype)
            if bias:
                self.params["bias"] = np.zeros(self.normalized_shape, dtype=dtype)
        self._own_dtype = np.dtype(dtype)
        self._cache = None

    @property
    def _dtype(self) -> np.dtype:
        return _array_dtype(self)

    def _desc(self) -> str:
        return f"LayerNorm({self.normalized_shape})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = check_array(self._desc(), x)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape or x.ndim < k:
            raise InputError(f"{self._desc()}: input has shape {x.shape}, expected its last "
                             f"{k} dimension(s) to be {self.normalized_shape}")
        if x.dtype != self._dtype:
            x = x.astype(self._dtype)
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = np.mean(xc * xc, axis=axes, keepdims=True)
        invstd = 1.0 / np.sqrt(var + self._dtype.type(self.eps))
        xhat = xc * invstd
        self._cache = (xhat, invstd, axes)
        if "weight" in self.params:
            xhat = xhat * self.params["weight"]
        if "bias" in self.params:
            xhat = xhat + self.params["bias"]
        return xhat

    def backward(self, dy: np.ndarray) -> np.ndarray:
        xhat, invstd, axes = cached(self._desc(), self._cache)
        dy = check_grad(self._desc(), dy, xhat.shape, self._dtype)
        lead = tuple(range(xhat.ndim - len(axes)))   # the parameters are shared over these
        g = dy
        if "weight" in self.params:
            self.grads["weight"] = (dy * xhat).sum(axis=lead)
            g = dy * self.params["weight"]
        if "bias" in self.params:
            self.grads["bias"] = dy.sum(axis=lead)
        return _normalized_backward(g, xhat, invstd, axes)

    def __repr__(self) -> str:
        return (f"LayerNorm({self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine})")
