"""Occlusion (Zeiler & Fergus 2014): cover a window of the input with a baseline value and see
how much the explained number drops. No gradients: it also works where gradients mislead
(saturated units), at the price of one forward pass per window position.

Windows of `window` pixels (over all channels) slide with `stride`; each pixel's attribution
is the mean drop over the windows that covered it (windows start at multiples of the stride
and never hang over the border, so with a stride that does not divide the image the last
rows/columns may be left uncovered: attribution 0).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlcc.errors import InputError
from dlcc.interpret.targets import Target, repeat_target, select


@torch.no_grad()
def occlusion(model: nn.Module, x: Tensor, target: Target = None, *, window: tuple[int, int] = (8, 8),
              stride: tuple[int, int] = (4, 4), baseline: float = 0.0, batch_size: int = 64) -> Tensor:
    """`x [B, C, H, W]` → `[B, C, H, W]` (the same value in every channel of a pixel)."""
    b, _, h, w = x.shape
    (wh, ww), (sh, sw) = window, stride
    if not (1 <= wh <= h and 1 <= ww <= w and sh >= 1 and sw >= 1):
        raise InputError(f"occlusion window {window} / stride {stride} do not fit a {h}x{w} image",
                         fix="use a window no larger than the image and strides >= 1, e.g. window=(8, 8) stride=(4, 4)")
    base = select(model(x), target)                                     # [B]
    tops, lefts = range(0, h - wh + 1, sh), range(0, w - ww + 1, sw)
    positions = [(t, l) for t in tops for l in lefts]
    total = torch.zeros(b, 1, h, w, dtype=x.dtype, device=x.device)
    count = torch.zeros(1, 1, h, w, dtype=x.dtype, device=x.device)
    per = max(1, batch_size // b)
    for i in range(0, len(positions), per):
        chunk = positions[i:i + per]
        covered = x.repeat(len(chunk), 1, 1, 1)                         # [n·B, C, H, W], window j at rows j·B..
        for j, (t, l) in enumerate(chunk):
            covered[j * b:(j + 1) * b, :, t:t + wh, l:l + ww] = baseline
        drop = (base.repeat(len(chunk)) - select(model(covered), repeat_target(target, len(chunk)))).view(len(chunk), b)
        for j, (t, l) in enumerate(chunk):
            total[:, :, t:t + wh, l:l + ww] += drop[j].view(b, 1, 1, 1)
            count[:, :, t:t + wh, l:l + ww] += 1
    return (total / count.clamp_min(1)).expand_as(x).contiguous()
