"""Gradient maps: saliency (Simonyan et al. 2014) and SmoothGrad (Smilkov et al. 2017).

Saliency is the gradient of the explained number with respect to each input value: how much
a tiny change of that pixel moves the score. It is noisy, because a ReLU network's gradient
jumps between nearby inputs. SmoothGrad averages the gradient over noisy copies of the input,
`mean_i ∇f(x + ε_i)`, `ε_i ~ N(0, σ²)`, which keeps what is stable and averages out the jumps.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlcc.errors import InputError
from dlcc.interpret.targets import Target, repeat_target, target_gradient


def saliency(model: nn.Module, x: Tensor, target: Target = None, *, absolute: bool = True) -> Tensor:
    """`|∇ₓ f_target(x)|` (or the signed gradient), `[B, ...]` like `x`."""
    grad = target_gradient(model, x, target)
    return grad.abs() if absolute else grad


def smoothgrad(model: nn.Module, x: Tensor, target: Target = None, *, samples: int = 25, noise: float = 0.15,
               absolute: bool = False, batch_size: int = 64, generator: torch.Generator | None = None) -> Tensor:
    """Mean gradient over `samples` copies of each input plus Gaussian noise of std `noise`
    (in the input's units: 0.15 is 15 % of the [0, 1] pixel range, the paper's 10-20 %).

    `x [B, ...]` → `[B, ...]`. The noise for all `B × samples` copies is drawn in one call (copies
    of a sample next to each other), so a seeded `generator` gives the same maps whatever the
    batch size. `absolute` averages |gradient| instead.
    """
    if int(samples) < 1 or not noise >= 0:
        raise InputError(f"smoothgrad needs samples >= 1 and noise >= 0, got samples={samples}, noise={noise}",
                         fix="e.g. samples=25 noise=0.15")
    copies = x.detach().repeat_interleave(int(samples), dim=0)
    eps = torch.randn(copies.shape, generator=generator, device=x.device, dtype=x.dtype) * noise
    noisy = copies + eps
    per_copy = repeat_target(target, int(samples), interleave=True)
    grads = []
    for i in range(0, len(noisy), batch_size):
        t = per_copy[i:i + batch_size] if isinstance(per_copy, Tensor) else per_copy
        grads.append(target_gradient(model, noisy[i:i + batch_size], t))
    grads = torch.cat(grads)
    if absolute:
        grads = grads.abs()
    return grads.view(len(x), int(samples), *x.shape[1:]).mean(1)
