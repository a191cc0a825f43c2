"""Fully connected layer, y = x W^T + b, with torch's parameter layout."""

from __future__ import annotations

import numpy as np

from dlcc.scratch.base import Module, check_array
from dlcc.scratch.layers._util import as_rng, cached, check_grad, positive_int, uniform


class Linear(Module):
    """y = x @ weight.T + bias.

    Shapes: x (*, in_features) -> y (*, out_features); any number of leading axes, like torch.
    Params: weight (out_features, in_features), bias (out_features,). Default init is torch's:
    U(-1/sqrt(in_features), 1/sqrt(in_features)) for both. The input is cast to the parameter
    dtype (float32 by default; use dtype=np.float64 or `.astype(np.float64)` for gradient checks).
    """

    can_skip_input_grad = True

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 rng: np.random.Generator | int | None = None, dtype=np.float32) -> None:
        super().__init__()
        self.in_features = positive_int("Linear", "in_features", in_features)
        self.out_features = positive_int("Linear", "out_features", out_features)
        rng = as_rng(rng)
        bound = 1.0 / np.sqrt(self.in_features)
        self.params["weight"] = uniform(rng, (self.out_features, self.in_features), bound, dtype)
        if bias:
            self.params["bias"] = uniform(rng, (self.out_features,), bound, dtype)
        self._x: np.ndarray | None = None

    def _desc(self) -> str:
        return f"Linear({self.in_features} -> {self.out_features})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = check_array(self._desc(), x, last_dim=self.in_features)
        weight = self.params["weight"]
        if x.dtype != weight.dtype:
            x = x.astype(weight.dtype)
        y = np.matmul(x, weight.T)
        if "bias" in self.params:
            y += self.params["bias"]
        self._x = x
        return y

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dy: (*, out_features) -> dx: (*, in_features), or None when input_grad is False
        (saves the largest product of the first layer, whose input is data)."""
        x = cached(self._desc(), self._x)
        weight = self.params["weight"]
        dy = check_grad(self._desc(), dy, x.shape[:-1] + (self.out_features,), weight.dtype)
        x2 = x.reshape(-1, self.in_features)
        dy2 = dy.reshape(-1, self.out_features)
        self.grads["weight"] = np.matmul(dy2.T, x2)
        if "bias" in self.params:
            self.grads["bias"] = dy2.sum(axis=0)
        return np.matmul(dy, weight) if input_grad else None

    def __repr__(self) -> str:
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={'bias' in self.params})")
