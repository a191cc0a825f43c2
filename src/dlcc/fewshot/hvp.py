"""Hessian-vector products by double backprop: the second-order part of MAML, made visible.

For a scalar loss L(θ) and a vector v shaped like θ,

    H v = ∇_θ ( ∇_θ L(θ) · v )

one backward pass builds ∇L *with its graph* (`create_graph=True`), a dot product with v makes
a scalar again, and a second backward pass differentiates that scalar: H (n x n) is never
formed, the cost is about two gradients. `finite_difference_hvp` is the independent check,

    H v ≈ (∇L(θ + εv) - ∇L(θ - εv)) / 2ε      (error O(ε²)),

and `maml_meta_gradient_parts` shows where the product sits in MAML: for one inner step of
size α, the meta-gradient equals ∇L_q(θ') - α H_s(θ) ∇L_q(θ'), the first term being all that
first-order MAML keeps.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Loss = Callable[[list[Tensor]], Tensor]   # params -> scalar


def hvp(loss_fn: Loss, params: list[Tensor], vector: list[Tensor]) -> list[Tensor]:
    """`H v` of `loss_fn` at `params` (tensors with requires_grad), by double backprop."""
    grads = torch.autograd.grad(loss_fn(params), params, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vector))
    return list(torch.autograd.grad(dot, params))


def finite_difference_hvp(loss_fn: Loss, params: list[Tensor], vector: list[Tensor], eps: float = 1e-4) -> list[Tensor]:
    """`H v` by central differences of the gradient (use float64: the check needs the digits)."""
    def grad_at(sign: float) -> list[Tensor]:
        moved = [(p.detach() + sign * eps * v).requires_grad_(True) for p, v in zip(params, vector)]
        return list(torch.autograd.grad(loss_fn(moved), moved))

    return [(a - b) / (2 * eps) for a, b in zip(grad_at(1.0), grad_at(-1.0))]


def maml_meta_gradient_parts(support_loss: Loss, query_loss: Loss, params: list[Tensor],
                             inner_lr: float) -> dict[str, list[Tensor]]:
    """MAML's meta-gradient for one inner step, three ways (all at `params` = θ):

        "full":        autograd through θ' = θ - α ∇L_s(θ) with create_graph (what MAML trains on)
        "first_order": ∇L_q(θ')  (FO-MAML: the inner gradient taken as a constant)
        "hvp_term":    α H_s(θ) ∇L_q(θ'), so that full = first_order - hvp_term
    """
    grads = torch.autograd.grad(support_loss(params), params, create_graph=True)
    adapted = [p - inner_lr * g for p, g in zip(params, grads)]
    full = list(torch.autograd.grad(query_loss(adapted), params))
    detached = [a.detach().requires_grad_(True) for a in adapted]
    first_order = list(torch.autograd.grad(query_loss(detached), detached))
    term = [inner_lr * h for h in hvp(support_loss, params, first_order)]
    return {"full": full, "first_order": first_order, "hvp_term": term}
