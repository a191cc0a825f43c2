"""Integrated gradients (Sundararajan et al. 2017): attribution = (x - x') × the average
gradient along the straight path from a baseline x' to x,

    IG_i(x) = (x_i - x'_i) · ∫₀¹ ∂f(x' + α(x - x'))/∂x_i dα

The integral is a weighted sum over `steps` points α_j of the path (a quadrature rule). The
attributions add up to f(x) - f(x') ("completeness"), up to the quadrature error, which
`completeness_gap` measures: a large gap means more steps are needed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from dlcc.errors import InputError
from dlcc.interpret.targets import Target, repeat_target, select, target_gradient

RULES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


def quadrature(rule: str, steps: int) -> tuple[list[float], list[float]]:
    """Points α_j in [0, 1] and weights w_j of a rule with `steps` points (Σ w_j = 1)."""
    n = int(steps)
    if n < 2:
        raise InputError(f"integrated gradients needs steps >= 2, got {steps}", fix="e.g. steps=50")
    if rule == "gausslegendre":               # exact for polynomials of degree < 2n
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return (0.5 * (nodes + 1)).tolist(), (0.5 * weights).tolist()
    if rule == "riemann_trapezoid":           # n points from 0 to 1, half weight at both ends
        w = [1 / (n - 1)] * n
        w[0] = w[-1] = 0.5 / (n - 1)
        return np.linspace(0, 1, n).tolist(), w
    start = {"riemann_left": 0.0, "riemann_middle": 0.5, "riemann_right": 1.0}.get(rule)
    if start is None:
        raise InputError(f"unknown integration rule {rule!r}", fix=f"use one of {', '.join(RULES)}")
    return [(j + start) / n for j in range(n)], [1 / n] * n


def integrated_gradients(model: nn.Module, x: Tensor, target: Target = None, *, baseline: Tensor | float = 0.0,
                         steps: int = 50, rule: str = "gausslegendre", batch_size: int = 64) -> Tensor:
    """`x [B, ...]` → attributions `[B, ...]` for the path from `baseline` (a tensor like x,
    or a constant; 0 = a black image in pixel space) to x."""
    x = x.detach()
    base = torch.as_tensor(baseline, dtype=x.dtype, device=x.device).expand_as(x)
    alphas, weights = quadrature(rule, steps)
    total = torch.zeros_like(x)
    # One path point per row: all samples at α_0, then all at α_1, ... in batches.
    points = [(a, w) for a, w in zip(alphas, weights)]
    per = max(1, batch_size // max(1, len(x)))
    for i in range(0, len(points), per):
        chunk = points[i:i + per]
        path = torch.cat([base + a * (x - base) for a, _ in chunk])
        grads = target_gradient(model, path, repeat_target(target, len(chunk))).view(len(chunk), *x.shape)
        w = torch.tensor([w for _, w in chunk], dtype=x.dtype, device=x.device).view(-1, *([1] * x.ndim))
        total += (grads * w).sum(0)
    return (x - base) * total


@torch.no_grad()
def completeness_gap(model: nn.Module, x: Tensor, attributions: Tensor, target: Target = None,
                     baseline: Tensor | float = 0.0) -> Tensor:
    """`Σ attributions - (f(x) - f(baseline))` per sample, `[B]` (0 for exact integration)."""
    base = torch.as_tensor(baseline, dtype=x.dtype, device=x.device).expand_as(x)
    delta = select(model(x), target) - select(model(base), target)
    return attributions.flatten(1).sum(1) - delta
