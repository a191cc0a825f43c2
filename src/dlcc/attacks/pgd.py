"""Projected gradient descent (Madry et al. 2018): repeated gradient steps on the loss, each
followed by a projection back onto the ε-ball around the input and onto the valid range.

    L-inf: step = alpha · sign(g);        projection: clip each value to [x - eps, x + eps]
    L2:    step = alpha · g / ‖g‖₂;       projection: scale δ down to ‖δ‖₂ ≤ eps

A random start (a uniform point of the L-inf ball; for L2 a random direction at a uniform
radius) and restarts, keeping per sample the restart with the highest loss, make the attack
stronger than a single run from the input itself.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from dlcc.attacks.gradient import Bounds, LossFn, check_eps, clamp_to, flat_norm, input_gradient, \
    per_sample_cross_entropy
from dlcc.errors import InputError

Norm = Literal["linf", "l2"]
TINY = 1e-12


def pgd(model: nn.Module, x: Tensor, y: Tensor, eps: float, *, norm: Norm = "linf", steps: int = 10,
        alpha: float | None = None, random_start: bool = True, restarts: int = 1, bounds: Bounds = (0.0, 1.0),
        loss_fn: LossFn | None = None, generator: torch.Generator | None = None) -> Tensor:
    """`x [B, ...]`, labels `y [B]` → `x_adv [B, ...]` with `‖x_adv - x‖ ≤ eps` in `norm`.

    Args:
        steps: gradient steps per restart.
        alpha: step size; default 2.5·eps/steps (Madry et al.), so the walk can cross the ball.
        random_start: start each restart from a random point of the ball (else from x).
        restarts: independent runs; each sample keeps the one with the highest final loss.
        bounds: valid value range (pixels: (0, 1)); None: unbounded.
        loss_fn: `(outputs, targets) -> per-sample loss [B]` (default cross-entropy).
        generator: seeds the random starts (a generator on x's device).
    """
    if norm not in ("linf", "l2"):
        raise InputError(f"norm={norm!r} is not one of linf, l2", fix="use norm='linf' or norm='l2'")
    if int(steps) < 1 or int(restarts) < 1:
        raise InputError(f"steps={steps} and restarts={restarts} must both be >= 1", fix="e.g. steps=20 restarts=1")
    eps = check_eps(eps, norm, bounds)
    alpha = 2.5 * eps / steps if alpha is None else float(alpha)
    loss_fn = loss_fn or per_sample_cross_entropy
    x = x.detach()
    best, best_loss = x.clone(), torch.full((len(x),), -float("inf"), device=x.device)
    for _ in range(int(restarts)):
        delta = _start(x, eps, norm, generator) if random_start else torch.zeros_like(x)
        adv = clamp_to(x + delta, bounds)
        for _ in range(int(steps)):
            grad, _ = input_gradient(model, adv, y, loss_fn)
            adv = _project(adv + alpha * _direction(grad, norm) - x, eps, norm) + x
            adv = clamp_to(adv, bounds)
        with torch.no_grad():
            loss = loss_fn(model(adv), y).float()
        better = loss > best_loss
        best[better], best_loss[better] = adv[better], loss[better]
    return best.detach()


def _start(x: Tensor, eps: float, norm: Norm, generator) -> Tensor:
    if norm == "linf":
        return torch.empty_like(x).uniform_(-eps, eps, generator=generator)
    direction = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    radius = torch.rand((len(x),) + (1,) * (x.ndim - 1), generator=generator, device=x.device, dtype=x.dtype)
    return direction / (flat_norm(direction) + TINY) * radius * eps


def _direction(grad: Tensor, norm: Norm) -> Tensor:
    return grad.sign() if norm == "linf" else grad / (flat_norm(grad) + TINY)


def _project(delta: Tensor, eps: float, norm: Norm) -> Tensor:
    if norm == "linf":
        return delta.clamp(-eps, eps)
    return delta * (eps / (flat_norm(delta) + TINY)).clamp(max=1.0)
