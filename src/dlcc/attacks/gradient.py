"""What every gradient attack needs: the gradient of the loss with respect to the input, and
checks of its budget.

The gradient is taken with `torch.autograd.grad` on the input alone, so the parameters'
`.grad` are never touched: an attack can run in the middle of a training step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.errors import InputError

Bounds = tuple[float, float] | None
LossFn = Callable[[Tensor, Tensor], Tensor]   # (outputs, targets) -> per-sample loss [B]


def per_sample_cross_entropy(outputs: Tensor, targets: Tensor) -> Tensor:
    return F.cross_entropy(outputs.float(), targets, reduction="none")


def input_gradient(model: nn.Module, x: Tensor, y: Tensor, loss_fn: LossFn | None = None) -> tuple[Tensor, Tensor]:
    """(d loss / d x, per-sample loss): `x [B, ...]`, `y [B]` → `[B, ...]`, `[B]`.

    The summed per-sample loss is differentiated, so each sample's gradient is that of its own
    loss (in eval mode; BatchNorm in train mode mixes the batch, as in training).
    """
    loss_fn = loss_fn or per_sample_cross_entropy
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        losses = loss_fn(model(x), y)
        (grad,) = torch.autograd.grad(losses.sum(), x)
    return grad.detach(), losses.detach()


def check_eps(eps: float, norm: str = "linf", bounds: Bounds = (0.0, 1.0)) -> float:
    """`eps` as a float; an `InputError` when it is negative, not finite, or (L-inf with bounds)
    larger than the whole value range, where every image is reachable."""
    try:
        eps = float(eps)
    except (TypeError, ValueError):
        raise InputError(f"eps={eps!r} is not a number", fix="e.g. eps=0.03137 (8/255)") from None
    if not math.isfinite(eps) or eps < 0:
        raise InputError(f"eps={eps:.6g} is outside its range: it must be a finite number >= 0",
                         fix="e.g. eps=0.03137 (8/255 on images in [0, 1])")
    if norm == "linf" and bounds is not None and eps > bounds[1] - bounds[0]:
        raise InputError(f"eps={eps:g} is larger than the value range [{bounds[0]:g}, {bounds[1]:g}] "
                         "(an L-inf ball that size contains every image)",
                         fix="give eps in pixel units, e.g. 8/255 = 0.0314, not 8")
    return eps


def clamp_to(x: Tensor, bounds: Bounds) -> Tensor:
    return x if bounds is None else x.clamp(bounds[0], bounds[1])


def flat_norm(x: Tensor) -> Tensor:
    """L2 norm of each sample, shaped to broadcast against `x` (`[B, 1, ..., 1]`)."""
    return x.flatten(1).norm(dim=1).view(-1, *([1] * (x.ndim - 1)))
