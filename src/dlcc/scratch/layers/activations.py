"""Elementwise activations and Softmax. Any input shape; the output keeps the input's dtype.

Each caches the one array its derivative needs (usually the output, which exists anyway).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import Module, check_array
from dlcc.scratch.functional import sigmoid, softmax
from dlcc.scratch.layers._util import cached, check_grad


class _Activation(Module):
    """Shared checks: forward validates x, backward validates dy against the cached shape."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: np.ndarray | None = None

    def _desc(self) -> str:
        return repr(self)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = check_array(self._desc(), x)
        y, self._cache = self._forward(x)
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        cache = cached(self._desc(), self._cache)
        dy = check_grad(self._desc(), dy, cache.shape, cache.dtype)
        return self._backward(dy, cache)

    def _forward(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _backward(self, dy, cache):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(_Activation):
    """max(x, 0). Gradient 0 at x = 0, like torch."""

    def _forward(self, x):
        y = np.maximum(x, 0)
        return y, y

    def _backward(self, dy, y):
        return dy * (y > 0)   # multiplying by a bool mask is ~4x faster than np.where here


class LeakyReLU(_Activation):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def _forward(self, x):
        slope = self._slope(x > 0, x.dtype)
        return x * slope, slope    # the cache is the local derivative itself

    def _slope(self, positive, dtype):
        """1 where x > 0, negative_slope elsewhere, as `dtype` (cheaper than np.where)."""
        a = dtype.type(self.negative_slope)
        return positive * (1 - a) + a

    def _backward(self, dy, slope):
        return dy * slope

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Sigmoid(_Activation):
    """1 / (1 + exp(-x)), overflow-free; derivative y (1 - y)."""

    def _forward(self, x):
        y = sigmoid(x)
        return y, y

    def _backward(self, dy, y):
        return dy * y * (1 - y)


class Tanh(_Activation):
    """tanh(x); derivative 1 - y^2."""

    def _forward(self, x):
        y = np.tanh(x)
        return y, y

    def _backward(self, dy, y):
        return dy * (1 - y * y)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELU(_Activation):
    """x * Phi(x), Phi the standard normal CDF.

    approximate="none" uses the exact erf form; approximate="tanh" uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), matching torch's two modes.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ConfigError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def _forward(self, x):
        if self.approximate == "tanh":
            t = np.tanh(x.dtype.type(_SQRT_2_OVER_PI) * (x + x.dtype.type(0.044715) * x ** 3))
            return 0.5 * x * (1 + t), x
        cdf = 0.5 * (1 + erf(x * x.dtype.type(1 / math.sqrt(2.0))))
        return x * cdf, x

    def _backward(self, dy, x):
        c = x.dtype.type
        if self.approximate == "tanh":
            t = np.tanh(c(_SQRT_2_OVER_PI) * (x + c(0.044715) * x ** 3))
            du = c(_SQRT_2_OVER_PI) * (1 + c(3 * 0.044715) * x * x)
            return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        cdf = 0.5 * (1 + erf(x * c(1 / math.sqrt(2.0))))
        pdf = c(_INV_SQRT_2PI) * np.exp(-0.5 * x * x)
        return dy * (cdf + x * pdf)

    def __repr__(self) -> str:
        return f"GELU(approximate={self.approximate!r})"


class Softmax(_Activation):
    """exp(x) / sum(exp(x)) along `dim` (stable). Unlike torch's deprecated implicit choice,
    the default is the last axis (the class axis of (N, C) logits); pass dim explicitly.

    For training, prefer the fused `losses.cross_entropy` on logits: it is more accurate.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = int(dim)

    def forward(self, x):
        x = check_array(self._desc(), x)
        if not -x.ndim <= self.dim < x.ndim:
            raise InputError(f"{self._desc()}: input has shape {x.shape}, which has no axis {self.dim}",
                             fix="pick dim within the input's dimensions (dim=1 for (N, C) logits)")
        y = softmax(x, axis=self.dim)
        self._cache = y
        return y

    def _backward(self, dy, y):
        # Jacobian-vector product of softmax: y * (dy - <dy, y>) along the axis.
        return y * (dy - (dy * y).sum(axis=self.dim, keepdims=True))

    def __repr__(self) -> str:
        return f"Softmax(dim={self.dim})"
