"""A fast-training CIFAR-10 network in the style of hlb-CIFAR10 / airbench (Keller Jordan, 2023-24).

Layers for `[B, 3, 32, 32]` (float32 or bf16, contiguous or channels-last) → logits `[B, 10]`:

    whiten  Conv2×2(3 → 24, no padding), weights from the patch covariance (`whiten_init_`)  31×31
    GELU
    group(24 → 64)     Conv3×3 → MaxPool2 → BN → GELU → Conv3×3 → BN → GELU                  15×15
    group(64 → 256)                                                                          7×7
    group(256 → 256)                                                                         3×3
    global max-pool (by index) → Linear(256 → 10, no bias) → × scale (1/9)

Why it trains fast: the whitening layer decorrelates 2×2 pixel patches, so the first learned
layer starts on well-conditioned inputs; pooling early keeps the convs cheap; BatchNorm has a
fixed scale (only its bias learns), which with the small output scale keeps the logits tame at
high learning rates; part of each conv starts as the identity (Dirac init), so the
untrained net already passes its input through. Training-side tricks (label smoothing, EMA or
lookahead of weights, flip test-time augmentation, a short warm-up/decay schedule) belong to
the recipe; `flip_tta` is here because it only needs the model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.errors import ConfigError, InputError


def _bn(width: int, momentum: float) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(width, momentum=momentum, eps=1e-12)
    bn.weight.requires_grad_(False)  # fixed scale of 1; only the shift learns
    return bn


class ConvGroup(nn.Module):
    """Conv3×3 → MaxPool2 → BN → GELU → Conv3×3 → BN → GELU.

    `[B, cin, H, W]` → `[B, cout, H//2, W//2]`.
    """

    def __init__(self, cin: int, cout: int, bn_momentum: float = 0.4):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = _bn(cout, bn_momentum)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = _bn(cout, bn_momentum)
        for conv in (self.conv1, self.conv2):  # identity start for the first cin filters
            with torch.no_grad():
                n = min(conv.in_channels, conv.out_channels)
                nn.init.dirac_(conv.weight[:n, :n])

    def forward(self, x: Tensor) -> Tensor:
        x = F.gelu(self.bn1(F.max_pool2d(self.conv1(x), 2)))
        return F.gelu(self.bn2(self.conv2(x)))


class CifarFastNet(nn.Module):
    """Fast CIFAR net (layers in the module docstring).

    Args:
        widths: output channels of the three conv groups.
        whiten_kernel: patch size of the whitening conv; it has 2·C·k² filters (each
            whitened direction and its negative, so the following GELU loses nothing).
        scale: multiplier on the logits (small logits make high learning rates stable).
        bn_momentum: PyTorch-convention BatchNorm momentum (weight of the new batch statistics).

    The whitening weights start random; call `whiten_init_(model.whiten, train_images)` before
    training. They are frozen (`requires_grad=False`); the whitening bias stays trainable.
    """

    def __init__(self, widths: tuple[int, int, int] = (64, 256, 256), in_channels: int = 3,
                 num_classes: int = 10, whiten_kernel: int = 2, scale: float = 1 / 9,
                 bn_momentum: float = 0.4):
        super().__init__()
        if len(widths) != 3:
            raise ConfigError(f"CifarFastNet needs three widths, got {widths!r}", fix="e.g. widths=[64, 256, 256]")
        whiten_width = 2 * in_channels * whiten_kernel**2
        self.whiten = nn.Conv2d(in_channels, whiten_width, whiten_kernel, padding=0, bias=True)
        self.whiten.weight.requires_grad_(False)
        self.groups = nn.Sequential(
            ConvGroup(whiten_width, widths[0], bn_momentum),
            ConvGroup(widths[0], widths[1], bn_momentum),
            ConvGroup(widths[1], widths[2], bn_momentum),
        )
        self.head = nn.Linear(widths[2], num_classes, bias=False)
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        x = self.groups(F.gelu(self.whiten(x)))
        # Global max-pool by index, not `torch.amax`: amax's backward finds the maxima again by
        # equality (x == max), and under torch.compile + bf16 autocast the recomputed x is kept
        # in float32 while the saved max was rounded to bf16, so nothing matches, the gradient
        # divides by a count of 0, and training turns NaN at the second step (seen on an H200;
        # reproduced on CPU, tests/models/test_zoo_fastnet.py). A pool with indices has no such
        # equality test.
        x = F.adaptive_max_pool2d(x, 1).flatten(1)
        return self.head(x) * self.scale


@torch.no_grad()
def whiten_init_(conv: nn.Conv2d, images: Tensor, eps: float = 5e-4, max_patches: int = 500_000,
                 generator: torch.Generator | None = None) -> Tensor:
    """Set `conv` to a ZCA-style whitening of the k×k patches of `images`, in place.

    With `D = C·k²` values per patch and patch covariance `Σ = V diag(λ) Vᵀ`, the first
    `d = out_channels/2` filters are the top-d eigenvectors scaled by `1/sqrt(λ + eps)` and the
    other d are their negatives. If `conv` has a bias it is set so outputs have zero mean on
    `images`. Afterwards the first d output channels have (approximately) identity covariance.

    Args:
        conv: `nn.Conv2d` with `groups=1` and an even `out_channels <= 2·D`.
        images: `[N, C, H, W]` float, preprocessed exactly as the network will see them.
        eps: added to the eigenvalues so near-constant directions are not blown up.
        max_patches: patches used for the covariance (a random subset if there are more).

    Returns the eigenvalues used (`[d]`, descending, float64).
    """
    c, (kh, kw) = conv.in_channels, conv.kernel_size
    dim, d = c * kh * kw, conv.out_channels // 2
    if conv.groups != 1 or conv.out_channels % 2 or d > dim:
        raise ConfigError(f"whiten_init_ needs a conv with groups=1 and an even out_channels <= {2 * dim}; "
                          f"got groups={conv.groups}, out_channels={conv.out_channels}",
                          fix=f"use nn.Conv2d({c}, {2 * dim}, {kh})")
    if images.ndim != 4 or images.shape[1] != c:
        raise InputError(f"whiten_init_ expects images [N, {c}, H, W], got {tuple(images.shape)}",
                         fix="pass a batch of training images with the conv's input channels")
    patches = F.unfold(images.float(), (kh, kw), dilation=conv.dilation)  # [N, D, L]
    patches = patches.transpose(1, 2).reshape(-1, dim)
    if len(patches) > max_patches:
        idx = torch.randperm(len(patches), generator=generator)[:max_patches]
        patches = patches[idx]
    x = patches.double()
    mean = x.mean(0)
    x = x - mean
    cov = x.T @ x / len(x)
    eigvals, eigvecs = torch.linalg.eigh(cov)  # ascending
    eigvals, eigvecs = eigvals.flip(0)[:d], eigvecs.flip(1)[:, :d]
    w = eigvecs.T / torch.sqrt(eigvals.clamp_min(0) + eps)[:, None]  # [d, D]
    conv.weight.copy_(torch.cat([w, -w]).reshape(conv.weight.shape).to(conv.weight.dtype))
    if conv.bias is not None:
        shift = -(w @ mean)
        conv.bias.copy_(torch.cat([shift, -shift]).to(conv.bias.dtype))
    return eigvals


@torch.no_grad()
def flip_tta(model: nn.Module, x: Tensor) -> Tensor:
    """Test-time augmentation: mean of the logits for `x` and its horizontal mirror, `[B, K]`."""
    return 0.5 * (model(x) + model(x.flip(-1)))
