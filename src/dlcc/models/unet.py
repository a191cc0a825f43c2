"""A configurable U-Net (Ronneberger et al. 2015) for binary or multi-class segmentation.

    enc0 = DoubleConv(in → w)                                       H
    enc_i = DoubleConv(MaxPool(enc_{i-1}), w·2^(i-1) → w·2^i)       H / 2^i,  i = 1..depth
    dec_i = DoubleConv(cat(Up(dec_{i+1}), enc_i))                   back up to H
    logits = Conv1×1(w → out_channels)

DoubleConv = (Conv3×3 → BN → ReLU) × 2. `upsample="transposed"` learns the upsampling
(ConvTranspose 2×2, stride 2, halving channels); `"bilinear"` interpolates and halves channels
with a 1×1 conv (fewer parameters, no checkerboard artefacts). The skip concatenation gives
the decoder the encoder's full-resolution detail, which pooling threw away.

Input `[B, in_channels, H, W]` float32 → logits `[B, out_channels, H, W]`. Sizes that are not
multiples of 2**depth are reflect-padded inside `forward` and the output cropped back
(`pad_input=True`, the default); with `pad_input=False` such sizes raise an `InputError`.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.data.segmentation import pad_to_multiple, unpad
from dlcc.errors import ConfigError, InputError


class DoubleConv(nn.Sequential):
    """(Conv3×3 → BN → ReLU) × 2, `[B, cin, H, W]` → `[B, cout, H, W]`."""

    def __init__(self, cin: int, cout: int, batch_norm: bool = True):
        layers: list[nn.Module] = []
        for c in (cin, cout):
            layers.append(nn.Conv2d(c, cout, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class Up(nn.Module):
    """Upsample ×2 (halving channels), concatenate the skip, DoubleConv.

    `x [B, cin, h, w]`, `skip [B, cin/2, 2h, 2w]` → `[B, cin/2, 2h, 2w]`.
    """

    def __init__(self, cin: int, mode: str, batch_norm: bool = True):
        super().__init__()
        if mode == "transposed":
            self.up = nn.ConvTranspose2d(cin, cin // 2, kernel_size=2, stride=2)
        else:
            self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                    nn.Conv2d(cin, cin // 2, kernel_size=1))
        self.conv = DoubleConv(cin, cin // 2, batch_norm)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class UNet(nn.Module):
    """Configurable U-Net.

    Args:
        in_channels: image channels (1 for grey microscopy, 3 for RGB).
        out_channels: 1 for binary segmentation (use a sigmoid / BCE-with-logits), K for K classes.
        depth: number of 2× downsamplings (the input is padded to a multiple of 2**depth).
        width: channels of the first level; level i has width·2^i.
        upsample: "bilinear" or "transposed".
        batch_norm: BatchNorm after every conv (convs then have no bias).
        pad_input: pad odd sizes inside forward (True) or reject them (False).
        checkpointing: in training, recompute each level's convolutions during backward instead
            of keeping their activations (gradient checkpointing: less memory, more time).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, depth: int = 4, width: int = 32,
                 upsample: str = "bilinear", batch_norm: bool = True, pad_input: bool = True,
                 checkpointing: bool = False):
        super().__init__()
        self.checkpointing = checkpointing
        if upsample not in ("bilinear", "transposed"):
            raise ConfigError(f"UNet upsample must be 'bilinear' or 'transposed', got {upsample!r}",
                              fix="set upsample=bilinear or upsample=transposed")
        if depth < 1 or width < 1:
            raise ConfigError(f"UNet needs depth >= 1 and width >= 1, got depth={depth}, width={width}",
                              fix="e.g. depth=4 width=32")
        self.depth, self.pad_input = depth, pad_input
        widths = [width * 2**i for i in range(depth + 1)]
        self.inc = DoubleConv(in_channels, widths[0], batch_norm)
        self.downs = nn.ModuleList(DoubleConv(widths[i], widths[i + 1], batch_norm) for i in range(depth))
        self.ups = nn.ModuleList(Up(widths[i + 1], upsample, batch_norm) for i in reversed(range(depth)))
        self.head = nn.Conv2d(widths[0], out_channels, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        multiple = 2**self.depth
        pads = (0, 0, 0, 0)
        if x.shape[-2] % multiple or x.shape[-1] % multiple:
            if not self.pad_input:
                raise InputError(f"UNet(depth={self.depth}) needs height and width divisible by {multiple}, "
                                 f"got {tuple(x.shape[-2:])}",
                                 fix=f"pad with dlcc.data.segmentation.pad_to_multiple(x, {multiple}) "
                                     "or build the UNet with pad_input=True")
            x, pads = pad_to_multiple(x, multiple)
        run = self._checkpointed if self.checkpointing and self.training and torch.is_grad_enabled() else _call
        skips = [run(self.inc, x)]
        for down in self.downs:
            skips.append(run(down, F.max_pool2d(skips[-1], 2)))
        y = skips.pop()
        for up in self.ups:
            y = run(up, y, skips.pop())
        return unpad(self.head(y), pads)

    @staticmethod
    def _checkpointed(module: nn.Module, *inputs: Tensor) -> Tensor:
        from torch.utils.checkpoint import checkpoint

        # The recomputation runs BatchNorm in training mode a second time; its running
        # statistics are put back afterwards, so they move once per step, as without checkpointing.
        return checkpoint(module, *inputs, use_reentrant=False,
                          context_fn=lambda: (contextlib.nullcontext(), _keep_running_stats(module)))


def _call(module: nn.Module, *inputs: Tensor) -> Tensor:
    return module(*inputs)


@contextlib.contextmanager
def _keep_running_stats(module: nn.Module):
    """Whatever runs inside leaves the BatchNorm buffers of `module` as they were."""
    saved = [(b, b.detach().clone()) for m in module.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm) for b in m.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)
