"""The fast gradient sign method (Goodfellow et al. 2015): one step along the sign of the
input gradient, the L-inf-optimal step for a model that is linear in its input; and the two
randomised variants used for fast adversarial training."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlcc.attacks.gradient import Bounds, LossFn, check_eps, clamp_to, input_gradient


def fgsm(model: nn.Module, x: Tensor, y: Tensor, eps: float, *, bounds: Bounds = (0.0, 1.0),
         loss_fn: LossFn | None = None, random_start: bool = False, alpha: float | None = None,
         noise: float | None = None, project: bool = True, generator: torch.Generator | None = None) -> Tensor:
    """`x + eps · sign(∇ₓ loss)`, clamped to `bounds`: `x [B, ...]`, `y [B]` → `x_adv [B, ...]`.

    With `random_start`, the step starts from `x` plus uniform noise in [-noise, noise] (default
    ε) and has size `alpha` (default 1.25·ε):

    - FGSM-RS (Wong et al. 2020, "Fast is better than free"): noise ε, step 1.25·ε, the result
      projected back onto the ε-ball (`project=True`);
    - N-FGSM (de Jorge et al. 2022, "Make some noise"): noise 2·ε, step ε, no projection, so
      the perturbation may reach 3·ε; the stronger noise avoids the "catastrophic overfitting"
      in which FGSM-RS training suddenly stops being robust to multi-step attacks.

    `bounds=None` leaves values unclamped (signals); `generator` (on x's device) seeds the start.
    """
    eps = check_eps(eps, "linf", bounds)
    x = x.detach()
    if not random_start:
        grad, _ = input_gradient(model, x, y, loss_fn)
        return clamp_to(x + eps * grad.sign(), bounds).detach()
    alpha = 1.25 * eps if alpha is None else float(alpha)
    noise = eps if noise is None else float(noise)
    start = clamp_to(x + torch.empty_like(x).uniform_(-noise, noise, generator=generator), bounds)
    grad, _ = input_gradient(model, start, y, loss_fn)
    delta = start - x + alpha * grad.sign()
    if project:
        delta = delta.clamp(-eps, eps)
    return clamp_to(x + delta, bounds).detach()
