"""Embedding: a lookup table from integer ids to learned vectors."""

from __future__ import annotations

import numpy as np

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import Module
from dlcc.scratch.layers._util import as_rng, cached, check_grad, positive_int


class Embedding(Module):
    """y = weight[ids].

    Shapes: ids (*) integers in [0, num_embeddings) -> y (*, embedding_dim).
    Params: weight (num_embeddings, embedding_dim), default init N(0, 1) like torch, with row
    `padding_idx` (if given; negative counts from the end) zeroed and never updated.
    backward(dy) fills grads["weight"] and returns None: ids have no gradient.
    """

    can_skip_input_grad = True

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 *, rng: np.random.Generator | int | None = None, dtype=np.float32) -> None:
        super().__init__()
        self.num_embeddings = positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = positive_int("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ConfigError(f"Embedding: padding_idx {padding_idx} is outside the table of "
                                  f"{self.num_embeddings} rows")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        weight = as_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)
        if padding_idx is not None:
            weight[padding_idx] = 0
        self.params["weight"] = weight
        self._ids: np.ndarray | None = None

    def _desc(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def forward(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise InputError(f"{self._desc()}: ids have dtype {ids.dtype}, expected integers",
                             fix="pass token/category ids, e.g. ids.astype(np.int64)")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            raise InputError(f"{self._desc()}: ids of shape {ids.shape} range over "
                             f"[{ids.min()}, {ids.max()}], expected [0, {self.num_embeddings - 1}]",
                             fix="check the vocabulary size (num_embeddings) and the id mapping")
        self._ids = ids
        return self.params["weight"][ids]

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> None:
        ids = cached(self._desc(), self._ids)
        weight = self.params["weight"]
        dy = check_grad(self._desc(), dy, ids.shape + (self.embedding_dim,), weight.dtype)
        grad = np.zeros_like(weight)
        # Repeated ids must add up; ufunc.at does unbuffered accumulation (fast in NumPy >= 1.25).
        np.add.at(grad, ids.ravel(), dy.reshape(-1, self.embedding_dim))
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        self.grads["weight"] = grad
        return None

    def __repr__(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{pad})"
