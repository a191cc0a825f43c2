"""A model that takes pixels: the run's normalisation as the first layer.

Attacks and attributions are defined on images as people see them (values in [0, 1]): an ε of
8/255 is 8 grey levels, the baseline of integrated gradients is a black image. Recipes feed
their networks normalised tensors instead, `(x - mean) / std` per channel (or minus a mean
image). `PixelInput` puts that normalisation in front of the network, so gradients reach the
pixels:

    model = PixelInput(run.model, mean=[0.49, 0.48, 0.45], std=[0.25, 0.24, 0.26])
    model(pixels)          # pixels [B, C, H, W] in [0, 1] -> the network's output
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


def _stat(values, default: float) -> Tensor:
    """Per-channel values `[C]` → `[C, 1, 1]`; a whole mean image `[C, H, W]` stays as it is;
    None → a scalar."""
    if values is None:
        return torch.tensor(default)
    t = torch.as_tensor(values, dtype=torch.float32).detach().clone()
    return t.view(-1, 1, 1) if t.ndim == 1 else t


class PixelInput(nn.Module):
    """`[B, C, ...]` pixels → `network((x - mean) / std)`.

    `mean`, `std`: one value per channel, or a mean image `[C, H, W]` (None: 0 and 1, the
    network itself). Per-channel values broadcast over images `[B, C, H, W]`; for other inputs
    (signals `[B, L]`) leave them out.
    """

    def __init__(self, network: nn.Module, mean: Sequence[float] | Tensor | None = None,
                 std: Sequence[float] | Tensor | None = None):
        super().__init__()
        self.network = network
        self.register_buffer("mean", _stat(mean, 0.0))
        self.register_buffer("std", _stat(std, 1.0))

    def normalize(self, x: Tensor) -> Tensor:
        """Pixels → the network's input."""
        return (x - self.mean) / self.std

    def pixels(self, x: Tensor) -> Tensor:
        """The network's input → pixels (the inverse of `normalize`)."""
        return x * self.std + self.mean

    def forward(self, x: Tensor) -> Tensor:
        return self.network(self.normalize(x))


def pixel_model(network: nn.Module, preprocessing: dict | None) -> PixelInput:
    """`network` behind the normalisation that a run's `artifacts["input"]` describes: keys
    `mean` and `std` (per channel) or `mean_image`; no normalisation when it has none."""
    pre = preprocessing or {}
    if pre.get("mean_image") is not None:
        return PixelInput(network, torch.as_tensor(pre["mean_image"]))
    return PixelInput(network, pre.get("mean"), pre.get("std"))
