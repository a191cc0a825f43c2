"""Positional encodings: attention is blind to order, so each position gets a vector added.

Both layers take x (B, L, E) (batch first) and return x + P[:L], P of shape (max_len, E).

* Sinusoidal (Vaswani et al. 2017), fixed: P[t, 2i] = sin(t / 10000^(2i/E)),
  P[t, 2i+1] = cos(t / 10000^(2i/E)). Each pair of features is a clock of its own frequency,
  so P[t + k] is a rotation of P[t] (relative offsets are linear maps) and any length up to
  max_len works without training.
* Learned (BERT, GPT-2): P is a trainable table, like an Embedding indexed by position; it
  fits the data but knows nothing about positions beyond max_len.
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import InputError
from dlcc.scratch.base import Module, check_array
from dlcc.scratch.layers._util import as_rng, cached, check_grad, positive_int


def sinusoidal_table(max_len: int, dim: int, base: float = 10000.0) -> np.ndarray:
    """(max_len, dim) float64 table; an odd `dim` has one more sine than cosine column."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]
    freq = base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)    # (ceil(dim / 2),)
    table = np.zeros((max_len, dim))
    table[:, 0::2] = np.sin(pos * freq)
    table[:, 1::2] = np.cos(pos * freq[: dim // 2])
    return table


class _PositionalEncoding(Module):
    def __init__(self, max_len: int, embedding_dim: int) -> None:
        super().__init__()
        name = type(self).__name__
        self.max_len = positive_int(name, "max_len", max_len)
        self.embedding_dim = positive_int(name, "embedding_dim", embedding_dim)
        self._shape: tuple[int, ...] | None = None

    def _desc(self) -> str:
        return f"{type(self).__name__}({self.max_len}, {self.embedding_dim})"

    def _check(self, x) -> np.ndarray:
        x = check_array(self._desc(), x, ndim=(2, 3), last_dim=self.embedding_dim)
        if x.shape[-2] > self.max_len:
            raise InputError(f"{self._desc()}: sequence of length {x.shape[-2]} is longer than "
                             f"max_len {self.max_len}", fix="build the layer with a larger max_len")
        self._shape = x.shape
        return x


class SinusoidalPositionalEncoding(_PositionalEncoding):
    """y = x + P[:L] with the fixed sinusoidal table P. Shapes: (B, L, E) or (L, E). No params."""

    def __init__(self, max_len: int, embedding_dim: int, *, dtype=np.float32) -> None:
        super().__init__(max_len, embedding_dim)
        self.table = sinusoidal_table(self.max_len, self.embedding_dim).astype(dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check(x)
        self._dtype = x.dtype
        return x + self.table[: x.shape[-2]].astype(x.dtype, copy=False)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape = cached(self._desc(), self._shape)
        return check_grad(self._desc(), dy, shape, self._dtype)


class LearnedPositionalEncoding(_PositionalEncoding):
    """y = x + weight[:L]. Shapes: (B, L, E) or (L, E). Params: weight (max_len, E), N(0, 0.02)
    (GPT-2's init: small, so the token embeddings dominate at the start)."""

    def __init__(self, max_len: int, embedding_dim: int, *,
                 rng: np.random.Generator | int | None = None, dtype=np.float32) -> None:
        super().__init__(max_len, embedding_dim)
        self.params["weight"] = (0.02 * as_rng(rng).standard_normal(
            (self.max_len, self.embedding_dim))).astype(dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check(x)
        weight = self.params["weight"]
        if x.dtype != weight.dtype:
            x = x.astype(weight.dtype)
        return x + weight[: x.shape[-2]]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape = cached(self._desc(), self._shape)
        weight = self.params["weight"]
        dy = check_grad(self._desc(), dy, shape, weight.dtype)
        grad = np.zeros_like(weight)
        # Every sequence of the batch adds the same rows: their gradients add up.
        grad[: shape[-2]] = dy.reshape(-1, shape[-2], shape[-1]).sum(axis=0)
        self.grads["weight"] = grad
        return dy
