"""Temporal convolutional network (Bai, Kolter & Koltun 2018): dilated causal 1-D convolutions.

Level i is a residual block of two convolutions with dilation 2**i, so the receptive field
grows exponentially with depth: 1 + 2 (k - 1) (2**levels - 1) samples. With `causal=True`
(the default) every convolution is padded on the left only, so the logit at time t depends on
inputs at times <= t — a trigger a scanner could use in real time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from dlcc.errors import ConfigError, InputError


class TemporalBlock(nn.Module):
    """Two weight-normalised dilated convs with ReLU and dropout, plus a residual connection.

    Shapes: `[B, in_ch, T]` -> `[B, out_ch, T]` (length kept by padding).
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, dilation: int,
                 dropout: float = 0.0, causal: bool = True):
        super().__init__()
        total = (kernel_size - 1) * dilation
        # causal: all padding on the left; otherwise centred (odd kernels keep alignment)
        self.pad = (total, 0) if causal else (total // 2, total - total // 2)
        self.conv1 = weight_norm(nn.Conv1d(in_ch, out_ch, kernel_size, dilation=dilation))
        self.conv2 = weight_norm(nn.Conv1d(out_ch, out_ch, kernel_size, dilation=dilation))
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.drop(F.relu(self.conv1(F.pad(x, self.pad))))
        h = self.drop(F.relu(self.conv2(F.pad(h, self.pad))))
        return F.relu(h + self.skip(x))


class TCN(nn.Module):
    """A stack of `TemporalBlock`s and a 1x1 conv head: one logit per time step.

    Args:
        in_channels: leads C.
        channels: width of every block.
        levels: number of blocks; block i has dilation 2**i.
        kernel_size: taps per convolution (>= 2).
        dropout: after each convolution.
        causal: left-only padding (True) or centred padding (False, sees the future too).

    Shapes: x `[B, T, C]` float32 (any T) -> logits `[B, T]` float32.
    """

    def __init__(self, in_channels: int = 2, channels: int = 32, levels: int = 8,
                 kernel_size: int = 3, dropout: float = 0.0, causal: bool = True):
        super().__init__()
        if kernel_size < 2 or levels < 1:
            raise ConfigError(f"TCN needs kernel_size >= 2 and levels >= 1; got {kernel_size}, {levels}",
                              fix="e.g. kernel_size=3 levels=8")
        self.in_channels, self.kernel_size, self.levels = in_channels, kernel_size, levels
        self.blocks = nn.Sequential(*[
            TemporalBlock(in_channels if i == 0 else channels, channels, kernel_size, 2 ** i,
                          dropout, causal)
            for i in range(levels)])
        self.head = nn.Conv1d(channels, 1, 1)

    @property
    def receptive_field(self) -> int:
        """How many input samples (the current one included) one output can see."""
        return 1 + 2 * (self.kernel_size - 1) * (2 ** self.levels - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[2] != self.in_channels:
            raise InputError(f"TCN expects a signal [B, T, {self.in_channels}]; got shape {tuple(x.shape)}")
        return self.head(self.blocks(x.transpose(1, 2))).squeeze(1)
