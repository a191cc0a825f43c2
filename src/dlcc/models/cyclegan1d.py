"""CycleGAN for 1-D signals (Zhu et al. 2017, the lecture's unpaired translation), sized for
ECG segments of a few hundred samples: a residual encoder-decoder that maps one lead to
another, and a patch discriminator that scores every stretch of a segment.

`LeadTranslator(channels=16, blocks=4)`, 115,905 parameters; `[B, 1, L]` -> `[B, 1, L]` (L
divisible by 4):

    Conv7(16) -> IN -> ReLU -> Conv3 s2 (32) -> IN -> ReLU -> Conv3 s2 (64) -> IN -> ReLU
    -> blocks x [x + (Conv3 -> IN -> ReLU -> Conv3 -> IN)(x)], dilations 1, 2, 4, 8
    -> Upsample(2) -> Conv3(32) -> IN -> ReLU -> Upsample(2) -> Conv3(16) -> IN -> ReLU -> Conv7(1)

IN is instance normalisation (per segment and channel), as in CycleGAN; the output is linear
(the leads are z-scored). The dilated blocks give each output sample a receptive field of about
270 samples (0.75 s at 360 Hz), a whole beat.

`PatchDiscriminator1d(channels=32)`, 108,001 parameters; `[B, 1, L]` -> `[B, 1, L/16]` logits,
one per stretch of the segment (a PatchGAN: it judges local waveform realism, leaving the
global content to the cycle loss):

    Conv4 s2 (32) -> LeakyReLU(0.2) -> Conv4 s2 (64) -> IN -> LeakyReLU -> Conv4 s2 (128)
    -> IN -> LeakyReLU -> Conv4 s2 (128) -> IN -> LeakyReLU -> Conv3 (1)
"""

from __future__ import annotations

from torch import Tensor, nn

from dlcc.errors import InputError


def _conv(cin: int, cout: int, k: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
    pad = dilation * (k - 1) // 2 if stride == 1 else 1
    return [nn.Conv1d(cin, cout, k, stride, pad, dilation), nn.InstanceNorm1d(cout, affine=True), nn.ReLU(inplace=True)]


class ResBlock1d(nn.Module):
    """`x + (Conv3 -> IN -> ReLU -> Conv3 -> IN)(x)`, both convolutions dilated by `dilation`."""

    def __init__(self, channels: int, dilation: int = 1):
        super().__init__()
        self.body = nn.Sequential(*_conv(channels, channels, 3, dilation=dilation),
                                  nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation),
                                  nn.InstanceNorm1d(channels, affine=True))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class LeadTranslator(nn.Module):
    def __init__(self, channels: int = 16, blocks: int = 4):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            *_conv(1, c, 7), *_conv(c, 2 * c, 3, 2), *_conv(2 * c, 4 * c, 3, 2),
            *[ResBlock1d(4 * c, 2 ** i) for i in range(blocks)],
            nn.Upsample(scale_factor=2), *_conv(4 * c, 2 * c, 3),
            nn.Upsample(scale_factor=2), *_conv(2 * c, c, 3),
            nn.Conv1d(c, 1, 7, padding=3))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[1] != 1 or x.shape[2] % 4:
            raise InputError(f"LeadTranslator takes [B, 1, L] with L divisible by 4, got {tuple(x.shape)}",
                             fix="cut segments of e.g. 512 samples, one lead each")
        return self.net(x)


class PatchDiscriminator1d(nn.Module):
    def __init__(self, channels: int = 32):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Conv1d(1, c, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv1d(c, 2 * c, 4, 2, 1), nn.InstanceNorm1d(2 * c, affine=True), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv1d(2 * c, 4 * c, 4, 2, 1), nn.InstanceNorm1d(4 * c, affine=True), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv1d(4 * c, 4 * c, 4, 2, 1), nn.InstanceNorm1d(4 * c, affine=True), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv1d(4 * c, 1, 3, padding=1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
