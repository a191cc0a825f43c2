"""Inverted dropout: zero each activation with probability p while training, scale the rest."""

from __future__ import annotations

import numpy as np

from dlcc.errors import ConfigError
from dlcc.scratch.base import Module, check_array
from dlcc.scratch.layers._util import as_rng, cached, check_grad


class Dropout(Module):
    """y = x * mask / (1 - p) in training, y = x in eval mode. Any shape; keeps x's dtype.

    Scaling at training time ("inverted" dropout, as torch does) keeps the expected activation
    unchanged, so evaluation needs no rescaling. Masks come from `rng` (a np.random.Generator
    or a seed), so a seeded layer drops the same units on every run.
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        if not 0.0 <= float(p) <= 1.0:
            raise ConfigError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.rng = as_rng(rng)
        self._mask: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None
        self._dtype = None

    def _desc(self) -> str:
        return f"Dropout(p={self.p})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = check_array(self._desc(), x)
        self._shape, self._dtype = x.shape, x.dtype
        if not self.training or self.p == 0.0:
            self._mask = None
            return x  # identity, like torch (no layer here modifies its input in place)
        if self.p == 1.0:
            self._mask = np.zeros_like(x)
        else:
            # Generator.random draws float32 or float64 directly (no conversion pass).
            draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
            keep = self.rng.random(x.shape, dtype=draw_dtype) >= self.p
            # One array holds both the mask and the scale, so backward is a single multiply.
            self._mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))
        return x * self._mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape = cached(self._desc(), self._shape)
        dy = check_grad(self._desc(), dy, shape, self._dtype)
        return dy if self._mask is None else dy * self._mask

    def __repr__(self) -> str:
        return self._desc()
