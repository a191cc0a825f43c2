"""Flatten: merge a range of axes into one (a reshape; backward reshapes back)."""

from __future__ import annotations

import numpy as np

from dlcc.errors import InputError
from dlcc.scratch.base import Module, check_array
from dlcc.scratch.layers._util import cached, check_grad


class Flatten(Module):
    """Merge axes start_dim..end_dim, as torch.nn.Flatten (default: all but the batch axis).

    Shapes: (N, C, H, W) -> (N, C*H*W) with the defaults. Keeps the input's dtype.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)
        self._shape: tuple[int, ...] | None = None

    def _desc(self) -> str:
        return repr(self)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = check_array(self._desc(), x)
        start = self.start_dim + x.ndim if self.start_dim < 0 else self.start_dim
        end = self.end_dim + x.ndim if self.end_dim < 0 else self.end_dim
        if x.ndim == 0 or not 0 <= start <= end < x.ndim:
            raise InputError(f"{self._desc()}: input of shape {x.shape} has no axes "
                             f"{self.start_dim}..{self.end_dim} to flatten")
        self._shape = x.shape
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape = cached(self._desc(), self._shape)
        dy = np.asarray(dy)
        if dy.size != int(np.prod(shape)):
            raise InputError(f"{self._desc()}: upstream gradient dy has shape {dy.shape}, which "
                             f"cannot be reshaped to the input's shape {shape}")
        dy = check_grad(self._desc(), dy, dy.shape, dy.dtype)
        return dy.reshape(shape)

    def __repr__(self) -> str:
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"
