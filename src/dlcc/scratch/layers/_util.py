"""Helpers shared by the layers: random generators, torch's default init, gradient checks."""

from __future__ import annotations

import numpy as np

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import check_array


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A Generator from a Generator (used as is), a seed, or None (fresh OS entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def uniform(rng: np.random.Generator, shape: tuple[int, ...], bound: float, dtype) -> np.ndarray:
    """U(-bound, bound) in `dtype`.

    torch initialises Linear and Conv weights with kaiming_uniform_(a=sqrt(5)); that gain makes
    the bound exactly 1/sqrt(fan_in), the same bound torch uses for their biases.
    """
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def positive_int(layer: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def pair(layer: str, name: str, value, minimum: int = 1) -> tuple[int, int]:
    """An int or a 2-tuple of ints (torch's `_pair`), each >= minimum."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                              or v < minimum for v in items):
        raise ConfigError(f"{layer}: {name} must be an int >= {minimum} or a pair of them, "
                          f"got {value!r}")
    return int(items[0]), int(items[1])


def cached(layer: str, value):
    """The forward cache, or a clear error when backward runs before forward."""
    if value is None:
        raise InputError(f"{layer}: backward called before forward",
                         fix="call forward(x) first (in training mode), then backward(dy)")
    return value


def check_grad(layer: str, dy, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Upstream gradient: floating point, finite, shaped like the forward output."""
    dy = check_array(layer, dy, name="upstream gradient dy")
    if dy.shape != shape:
        raise InputError(f"{layer}: upstream gradient dy has shape {dy.shape}, expected the "
                         f"forward output's shape {shape}",
                         fix="pass backward() the gradient of the loss w.r.t. this layer's output")
    return dy if dy.dtype == dtype else dy.astype(dtype)
