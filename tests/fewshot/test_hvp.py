"""Hessian-vector products by double backprop against finite differences, and MAML's
meta-gradient as first-order gradient minus the HVP term."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from dlcc.fewshot import adapt, finite_difference_hvp, hvp, maml_meta_gradient_parts


def _net_loss(seed: int = 0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3)).double()
    x, y = torch.randn(10, 4, dtype=torch.float64), torch.randint(0, 3, (10,))
    names = [n for n, _ in net.named_parameters()]

    def loss(params):
        return F.cross_entropy(functional_call(net, dict(zip(names, params)), (x,)), y)
    return net, loss, [p.detach().clone().requires_grad_(True) for p in net.parameters()]


def test_hvp_of_a_quadratic_is_the_matrix_product():
    a = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    theta = [torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)]
    v = [torch.tensor([1.0, 2.0], dtype=torch.float64)]
    (hv,) = hvp(lambda p: 0.5 * p[0] @ a @ p[0], theta, v)
    assert torch.allclose(hv, a @ v[0])


def test_hvp_matches_finite_differences_on_a_network():
    _, loss, params = _net_loss()
    v = [torch.randn_like(p) for p in params]
    exact, approx = hvp(loss, params, v), finite_difference_hvp(loss, params, v, eps=1e-5)
    for e, a in zip(exact, approx):
        assert torch.allclose(e, a, rtol=1e-6, atol=1e-8)


def test_maml_meta_gradient_is_first_order_minus_the_hvp_term():
    _, support, params = _net_loss(0)
    _, query, _ = _net_loss(1)   # another task's data, the same architecture
    parts = maml_meta_gradient_parts(support, query, params, inner_lr=0.3)
    for full, fo, term in zip(parts["full"], parts["first_order"], parts["hvp_term"]):
        assert torch.allclose(full, fo - term, atol=1e-10)
    assert max(t.abs().max() for t in parts["hvp_term"]) > 1e-4   # the second-order part is not negligible


def test_adapt_second_order_gradient_agrees_with_the_decomposition():
    net, support, _ = _net_loss(0)
    torch.manual_seed(2)
    x, y = torch.randn(10, 4, dtype=torch.float64), torch.randint(0, 3, (10,))
    xq, yq = torch.randn(10, 4, dtype=torch.float64), torch.randint(0, 3, (10,))
    theta = dict(net.named_parameters())
    adapted = adapt(net, theta, x, y, steps=1, lr=0.3, second_order=True)
    full = torch.autograd.grad(F.cross_entropy(functional_call(net, adapted, (xq,)), yq), list(theta.values()))
    names = list(theta)

    def loss_on(data):
        return lambda p: F.cross_entropy(functional_call(net, dict(zip(names, p)), (data[0],)), data[1])
    parts = maml_meta_gradient_parts(loss_on((x, y)), loss_on((xq, yq)), list(theta.values()), 0.3)
    for a, b in zip(full, parts["full"]):
        assert torch.allclose(a, b, atol=1e-12)
