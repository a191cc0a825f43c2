"""Multi-layer perceptrons: a configurable `MLP` and the course's `PytorchMLP`.

Both flatten their input, so they take images `[B, C, H, W]` (or `[B, H, W, C]`, or signals
`[B, L]`) and return logits `[B, num_classes]` (float32).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from dlcc.errors import ConfigError, InputError

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "silu": nn.SiLU,
}


def make_activation(name: str) -> nn.Module:
    """'relu' -> nn.ReLU(); a `ConfigError` naming the choices for an unknown name."""
    try:
        return ACTIVATIONS[name.lower()]()
    except (KeyError, AttributeError):
        raise ConfigError(f"unknown activation {name!r}",
                          fix=f"use one of {', '.join(ACTIVATIONS)}") from None


class MLP(nn.Module):
    """Flatten -> [Linear -> (BatchNorm1d) -> activation -> (Dropout)] per hidden size -> Linear.

    Args:
        in_features: size of one flattened input (e.g. 32*32*3 = 3072 for CIFAR-10).
        hidden: hidden layer sizes, e.g. [300, 200, 100]; empty means logistic regression.
        num_classes: number of outputs (logits).
        activation: a name from `ACTIVATIONS`.
        dropout: dropout probability after each hidden activation (0 disables it).
        batchnorm: add BatchNorm1d between each hidden Linear and its activation.

    Shapes: x `[B, *]` with prod(*) == in_features -> logits `[B, num_classes]`.
    """

    def __init__(self, in_features: int, hidden: Sequence[int], num_classes: int = 10,
                 activation: str = "relu", dropout: float = 0.0, batchnorm: bool = False):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}", fix="e.g. --set model.dropout=0.2")
        sizes = [int(in_features), *[int(h) for h in hidden]]
        if any(s <= 0 for s in sizes) or num_classes <= 0:
            raise ConfigError(f"layer sizes must be positive, got {sizes[1:]} -> {num_classes}",
                              fix="e.g. --set model.hidden=[256,128]")
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            # BatchNorm makes the Linear bias redundant; keep it anyway so parameter counts
            # stay comparable with the course's plain MLP.
            layers.append(nn.Linear(n_in, n_out))
            if batchnorm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-1], int(num_classes)))
        self.in_features = int(in_features)
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.in_features:
            raise InputError(f"MLP expects {self.in_features} input features per sample, "
                              f"got {x.shape[1]} (input shape {tuple(x.shape)})",
                              fix="build the model with in_features matching the data")
        return self.layers(x)


class PytorchMLP(MLP):
    """The course's A2 model: `Linear -> ReLU` per hidden size, then `Linear(last, 10)`.

    `PytorchMLP(32, 32, 3, [300, 200, 200, 200, 100])` has 1,083,610 parameters.
    Input `[B, C, H, W]` float32 -> logits `[B, 10]`.
    """

    def __init__(self, H: int, W: int, C: int, num_hidden_layers: Sequence[int]):  # noqa: N803
        super().__init__(H * W * C, num_hidden_layers, num_classes=10)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
