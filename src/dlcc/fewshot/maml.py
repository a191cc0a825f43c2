"""Model-agnostic meta-learning (Finn, Abbeel & Levine 2017), first- and second-order.

MAML learns an initialisation θ from which a few gradient steps on a task's support set give
good weights for that task's queries:

    inner loop (per task):  θ'_0 = θ;  θ'_{i+1} = θ'_i - α ∇ L_support(θ'_i)      (inner_steps times)
    outer loss:             L_query(θ'), averaged over a meta-batch of tasks; Adam on θ

The meta-gradient ∇_θ L_query(θ') runs back through the inner loop. For one inner step it is

    ∇_θ L_query(θ') = (I - α H_support(θ)) ∇ L_query(θ')                 H: the Hessian

so the second-order part is a Hessian-vector product, which autograd computes by
differentiating through the inner gradient (`create_graph=True`): never forming H, at about
twice the cost of a gradient (hvp.py shows it on its own). First-order MAML drops the
`- α H ...` term: the inner gradients are treated as constants (`create_graph=False`), so
θ' = θ - constants and the meta-gradient is just ∇ L_query at θ'.

The network is called functionally (`torch.func.functional_call`) with the adapted weights, so
the module's own parameters stay θ. BatchNorm uses each batch's statistics (models/conv4.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from dlcc.fewshot.episodes import Episode
from dlcc.train.config import TrainConfig
from dlcc.train.optim import make_optimizer

Params = dict[str, Tensor]


def adapt(model: nn.Module, params: Params, x: Tensor, y: Tensor, steps: int, lr: float,
          second_order: bool = False) -> Params:
    """The inner loop: `steps` SGD steps of size `lr` on cross-entropy of `model(x)` vs `y`.

    Args:
        params: name -> tensor, the starting weights (θ: the model's own parameters).
        second_order: keep the graph of each inner gradient (full MAML); else first-order.
    Returns the adapted weights θ' (differentiable w.r.t. `params` in both modes).
    """
    names = list(params)
    for _ in range(steps):
        loss = F.cross_entropy(functional_call(model, params, (x,)), y)
        grads = torch.autograd.grad(loss, [params[n] for n in names], create_graph=second_order)
        params = {n: params[n] - lr * g for n, g in zip(names, grads)}
    return params


def task_loss(model: nn.Module, episode: Episode, steps: int, lr: float, second_order: bool) -> tuple[Tensor, Tensor]:
    """(query loss after adapting to the support set, query accuracy) for one episode."""
    theta = dict(model.named_parameters())
    adapted = adapt(model, theta, episode.support_x, episode.support_y, steps, lr, second_order)
    logits = functional_call(model, adapted, (episode.query_x,))
    return F.cross_entropy(logits, episode.query_y), (logits.argmax(1) == episode.query_y).float().mean()


def maml_predict(model: nn.Module, episode: Episode, steps: int, lr: float) -> Tensor:
    """Adapt to the support set (first-order: no graph is needed at test time), then predict the
    queries' classes `[N*Q]`."""
    theta = {n: p.detach().requires_grad_(True) for n, p in model.named_parameters()}
    with torch.enable_grad():
        adapted = adapt(model, theta, episode.support_x, episode.support_y, steps, lr, second_order=False)
    with torch.no_grad():
        return functional_call(model, adapted, (episode.query_x,)).argmax(1)


class MAMLStep:
    """The run helper's training step: each batch is a meta-batch of episodes; one outer
    (meta) optimizer step on their mean query loss."""

    def __init__(self, model: nn.Module, train: TrainConfig, inner_steps: int, inner_lr: float, second_order: bool):
        self.model, self.inner_steps, self.inner_lr, self.second_order = model, inner_steps, inner_lr, second_order
        self.optimizers = {"meta": make_optimizer(model.parameters(), train)}

    def __call__(self, trainer, episodes: list[Episode]) -> dict[str, Tensor]:
        opt = self.optimizers["meta"]
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for ep in episodes:   # backward per task: only one task's inner-loop graph is alive at a time
            loss, _ = task_loss(self.model, ep.to(trainer.device), self.inner_steps, self.inner_lr, self.second_order)
            (loss / len(episodes)).backward()
            total += loss.detach() / len(episodes)
        opt.step()
        return {"loss": total}
