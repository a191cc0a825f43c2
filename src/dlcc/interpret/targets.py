"""What an attribution explains: one number per sample, taken from the model's output.

A classifier's output is `[B, K]` logits and the number is the logit of a chosen class
(`select(outputs, target)`). A segmentation network's output is a map `[B, C, H, W]`;
`RegionScore` turns it into one number per sample — the mean logit of a channel inside a
region — so every method below explains "why does the U-Net mark *this region* as
foreground?" with the same code as "why is this a cat?".
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlcc.errors import InputError

Target = int | Tensor | None


def select(outputs: Tensor, target: Target) -> Tensor:
    """The explained number per sample, `[B]`: `outputs [B, K]` at column `target` (an int, or
    `[B]` ints, one per sample); `target=None` needs a single output column."""
    if outputs.ndim != 2:
        raise InputError(f"attributions explain a model whose output is [batch, classes]; got {tuple(outputs.shape)}",
                         fix="wrap a segmentation model in dlcc.interpret.RegionScore(model, region)")
    if target is None:
        if outputs.shape[1] != 1:
            raise InputError(f"the model has {outputs.shape[1]} outputs: say which one to explain",
                             fix="pass target=<class index> (e.g. the predicted class)")
        target = 0
    index = torch.as_tensor(target, device=outputs.device).long().reshape(-1)
    if len(index) == 1:
        index = index.expand(len(outputs))
    if len(index) != len(outputs) or bool((index < 0).any()) or bool((index >= outputs.shape[1]).any()):
        raise InputError(f"target {target!r} does not name one of the {outputs.shape[1]} outputs for each of "
                         f"{len(outputs)} samples", fix=f"use class indices 0..{outputs.shape[1] - 1}")
    return outputs.gather(1, index[:, None])[:, 0]


def repeat_target(target: Target, times: int, interleave: bool = False) -> Target:
    """The target for a batch made of `times` copies of a batch: per-sample targets `[B]` are
    tiled (copies of the whole batch one after another) or interleaved (copies of each sample
    next to each other); a single class stays as it is."""
    if target is None or torch.as_tensor(target).numel() == 1:
        return target
    flat = torch.as_tensor(target).reshape(-1)
    return flat.repeat_interleave(times) if interleave else flat.repeat(times)


def target_gradient(model: nn.Module, x: Tensor, target: Target) -> Tensor:
    """d(explained number)/dx, `[B, ...]` like `x` (each sample's own gradient)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(select(model(x), target).sum(), x)
    return grad.detach()


class RegionScore(nn.Module):
    """`[B, C_in, H, W]` → `[B, 1]`: the mean of output channel `channel` of a segmentation
    network over `region` (bool `[H, W]`, True inside; None: the whole image).

    The mean logit, not the probability: the sigmoid saturates on confident pixels, whose
    gradient would then vanish.
    """

    def __init__(self, network: nn.Module, region: Tensor | None = None, channel: int = 0):
        super().__init__()
        self.network, self.channel = network, int(channel)
        self.register_buffer("region", None if region is None else region.bool())

    def forward(self, x: Tensor) -> Tensor:
        maps = self.network(x)[:, self.channel]                       # [B, H, W]
        if self.region is None:
            return maps.mean((1, 2))[:, None]
        if self.region.shape != maps.shape[1:]:
            raise InputError(f"the region is {tuple(self.region.shape)} but the mask is {tuple(maps.shape[1:])}",
                             fix="give a region of the image's size")
        if not bool(self.region.any()):
            raise InputError("the region is empty", fix="give a region with at least one pixel")
        weights = self.region.to(maps.dtype)
        return ((maps * weights).sum((1, 2)) / weights.sum())[:, None]


def box_region(height: int, width: int, box: tuple[int, int, int, int]) -> Tensor:
    """Bool `[height, width]`, True inside `box = (top, left, bottom, right)` (bottom/right excluded)."""
    top, left, bottom, right = (int(v) for v in box)
    if not (0 <= top < bottom <= height and 0 <= left < right <= width):
        raise InputError(f"region {box} is not inside the {height}x{width} image (top, left, bottom, right)",
                         fix=f"e.g. --region 0,0,{height // 2},{width // 2}")
    region = torch.zeros(height, width, dtype=torch.bool)
    region[top:bottom, left:right] = True
    return region
