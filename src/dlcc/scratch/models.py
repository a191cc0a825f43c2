"""Small model builders on top of the layers."""

from __future__ import annotations

from collections.abc import Sequence as SequenceOf

import numpy as np

from dlcc.errors import ConfigError
from dlcc.scratch.layers import (GELU, BatchNorm1d, Dropout, LeakyReLU, Linear, ReLU, Sequential,
                                 Sigmoid, Tanh)
from dlcc.scratch.layers._util import as_rng

ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh,
               "gelu": GELU}


def mlp(sizes: SequenceOf[int], activation: str = "relu", dropout: float = 0.0,
        batchnorm: bool = False, *, rng: np.random.Generator | int | None = None,
        dtype=np.float32) -> Sequential:
    """A multi-layer perceptron as a Sequential.

    sizes = [in, hidden..., out]. Each hidden block is Linear -> [BatchNorm1d] -> activation ->
    [Dropout]; the last Linear has no activation (it outputs logits for `cross_entropy`).
    The same list in torch.nn.Sequential has the same state_dict keys, so weights copy across.

    Example: mlp([784, 256, 128, 10]) is
        Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10).
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1
                             for s in sizes):
        raise ConfigError(f"mlp: sizes must be at least two positive integers [in, ..., out], "
                          f"got {sizes!r}")
    if activation not in ACTIVATIONS:
        raise ConfigError(f"mlp: unknown activation {activation!r}; choose one of "
                          f"{', '.join(ACTIVATIONS)}")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"mlp: dropout must be in [0, 1), got {dropout!r}")
    rng = as_rng(rng)   # one generator for init and dropout masks: a seed fixes everything
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(fan_in, fan_out, rng=rng, dtype=dtype))
        if i == len(sizes) - 2:
            break
        if batchnorm:
            layers.append(BatchNorm1d(fan_out, dtype=dtype))
        layers.append(ACTIVATIONS[activation]())
        if dropout:
            layers.append(Dropout(dropout, rng=rng))
    return Sequential(*layers)
