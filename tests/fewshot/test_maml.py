"""MAML's inner loop, its first- vs second-order meta-gradients, and test-time adaptation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlcc.fewshot import Episode, MAMLStep, adapt, maml_predict, task_loss
from dlcc.fewshot.evaluate import evaluate_episodes, mean_ci95
from dlcc.train import TrainConfig


def _task(seed: int = 0, dim: int = 5, ways: int = 3, shots: int = 4) -> Episode:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(ways, dim, generator=g) * 2
    y = torch.arange(ways).repeat_interleave(shots)
    return Episode(centres[y] + torch.randn(len(y), dim, generator=g) * 0.5, y,
                   centres[y] + torch.randn(len(y), dim, generator=g) * 0.5, y, torch.arange(ways))


def test_one_inner_step_is_one_sgd_step():
    torch.manual_seed(0)
    net, ep = nn.Linear(5, 3), _task()
    theta = dict(net.named_parameters())
    adapted = adapt(net, theta, ep.support_x, ep.support_y, steps=1, lr=0.1)
    loss = F.cross_entropy(net(ep.support_x), ep.support_y)
    grads = torch.autograd.grad(loss, list(theta.values()))
    for (name, p), g in zip(theta.items(), grads):
        assert torch.allclose(adapted[name], p - 0.1 * g)
    assert net.weight is theta["weight"]   # the module's own weights are untouched


def test_inner_loop_lowers_the_support_loss():
    torch.manual_seed(0)
    net, ep = nn.Linear(5, 3), _task()
    theta = dict(net.named_parameters())
    before = F.cross_entropy(net(ep.support_x), ep.support_y).item()
    adapted = adapt(net, theta, ep.support_x, ep.support_y, steps=5, lr=0.5)
    after = F.cross_entropy(torch.func.functional_call(net, adapted, (ep.support_x,)), ep.support_y).item()
    assert after < before


def test_second_order_meta_gradient_differs_from_first_order():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    ep = _task()
    grads = {}
    for second in (False, True):
        net.zero_grad()
        task_loss(net, ep, steps=2, lr=0.5, second_order=second)[0].backward()
        grads[second] = torch.cat([p.grad.flatten() for p in net.parameters()])
    assert not torch.allclose(grads[False], grads[True], atol=1e-5)


class _Trainer:
    device = torch.device("cpu")


def test_meta_training_improves_adapted_accuracy_on_new_tasks():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
    step = MAMLStep(net, TrainConfig(lr=3e-3, optimizer="adam"), inner_steps=1, inner_lr=0.5, second_order=True)

    class Tasks:   # a sampler-like stream of new random tasks
        def __init__(self, start):
            self.start = start

        def take(self, n):
            return (_task(self.start + i) for i in range(n))

    before = evaluate_episodes(net, lambda m, e: maml_predict(m, e, 1, 0.5), Tasks(1000), 10)["accuracy"]
    for i in range(15):
        step(_Trainer(), list(Tasks(2 * i).take(2)))
    after = evaluate_episodes(net, lambda m, e: maml_predict(m, e, 1, 0.5), Tasks(1000), 10)["accuracy"]
    assert after >= before


def test_mean_ci95_by_hand():
    mean, ci = mean_ci95([0.5, 0.7, 0.9, 0.7])
    std = (sum((v - 0.7) ** 2 for v in [0.5, 0.7, 0.9, 0.7]) / 3) ** 0.5
    assert abs(mean - 0.7) < 1e-12 and abs(ci - 1.96 * std / 2) < 1e-12
    assert mean_ci95([0.3]) == (0.3, 0.0)
