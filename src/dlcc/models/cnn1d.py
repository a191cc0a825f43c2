"""A small 1-D convolutional network for signals such as MNIST-1D (length-40 sequences).

Each block is Conv1d -> (BatchNorm1d) -> ReLU; the feature map is flattened (position
matters in MNIST-1D, so no global pooling) and a Linear layer gives the logits.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from dlcc.errors import ConfigError, InputError


class CNN1D(nn.Module):
    """Conv1d blocks then a linear classifier.

    Args:
        in_length: samples per signal (40 for MNIST-1D).
        num_classes: number of logits.
        channels: output channels of each conv block, e.g. (32, 32, 32).
        kernel_size: odd kernel width, padded to keep the length ("same" before striding).
        stride: stride of each conv (2 halves the length per block; 1 keeps it).
        in_channels: signal channels (1 for MNIST-1D, 2 for two-lead ECG).
        batchnorm: BatchNorm1d after each conv.
        dropout: dropout before the final Linear (0 disables it).

    Shapes: x `[B, L]` or `[B, in_channels, L]` float32 -> logits `[B, num_classes]`.
    """

    def __init__(self, in_length: int = 40, num_classes: int = 10,
                 channels: Sequence[int] = (32, 32, 32), kernel_size: int = 5, stride: int = 2,
                 in_channels: int = 1, batchnorm: bool = False, dropout: float = 0.0):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size must be a positive odd number, got {kernel_size}",
                              fix="e.g. --set model.kernel_size=5")
        if not channels or any(int(c) <= 0 for c in channels):
            raise ConfigError(f"channels must be a non-empty list of positive numbers, got {list(channels)}",
                              fix="e.g. --set model.channels=[32,32,32]")
        blocks: list[nn.Module] = []
        c_in = in_channels
        for c_out in channels:
            blocks.append(nn.Conv1d(c_in, int(c_out), kernel_size, stride=stride, padding=kernel_size // 2))
            if batchnorm:
                blocks.append(nn.BatchNorm1d(int(c_out)))
            blocks.append(nn.ReLU())
            c_in = int(c_out)
        self.in_channels = in_channels
        self.in_length = in_length
        self.features = nn.Sequential(*blocks)
        with torch.no_grad():  # the flattened size depends on length, kernel and stride
            n_flat = self.features(torch.zeros(1, in_channels, in_length)).numel()
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
                                  nn.Linear(n_flat, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(1)  # [B, L] -> [B, 1, L]
        if x.dim() != 3 or x.shape[1] != self.in_channels or x.shape[2] != self.in_length:
            raise InputError(f"CNN1D expects input [B, {self.in_channels}, {self.in_length}] "
                             f"(or [B, {self.in_length}] for one channel), got {tuple(x.shape)}",
                             fix="build the model with in_length/in_channels matching the data")
        return self.head(self.features(x))
