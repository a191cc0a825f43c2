"""`make_optimizer(groups, cfg)`: the optimizer named by `train.optimizer`, with its settings.

    optimizer = make_optimizer(model.parameters(), cfg.train)
    optimizer = make_optimizer(decay_groups(model, cfg.train.weight_decay), cfg.train)

Parameter groups may carry their own "lr" or "weight_decay" (e.g. no decay for biases and
norms, a larger LR for BatchNorm); groups without them take `train.lr` / `train.weight_decay`.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from dlcc.train.config import TrainConfig


def make_optimizer(params: Iterable, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD (momentum `cfg.momentum`, optionally Nesterov), Adam or AdamW (betas
    `(cfg.momentum, cfg.beta2)`, eps 1e-8) over `params` (tensors or parameter-group dicts)."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                               nesterov=cfg.nesterov and cfg.momentum > 0, weight_decay=cfg.weight_decay)
    params = list(params)
    cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    # the fused CUDA kernel: one launch per step instead of several per parameter tensor
    fused = all(p.is_cuda for p in _tensors(params)) or None
    return cls(params, lr=cfg.lr, betas=(cfg.momentum, cfg.beta2), eps=1e-8, weight_decay=cfg.weight_decay,
               fused=fused)


def _tensors(params: list) -> list[torch.Tensor]:
    """The parameter tensors of a list of tensors or parameter-group dicts."""
    out = []
    for item in params:
        out.extend(item["params"] if isinstance(item, dict) else [item])
    return out


class OptimizerGroup:
    """Several optimizers seen as one by the training loop (a GAN's generator and discriminator):
    `param_groups` lists all their groups (an LR schedule scales every one), `state_dict()` holds
    each optimizer's state by name, and `group["D"]` is one of them."""

    def __init__(self, optimizers: dict[str, torch.optim.Optimizer]):
        if not optimizers:
            raise ValueError("OptimizerGroup needs at least one optimizer")
        self.optimizers = dict(optimizers)

    def __getitem__(self, name: str) -> torch.optim.Optimizer:
        return self.optimizers[name]

    @property
    def param_groups(self) -> list[dict]:
        return [group for opt in self.optimizers.values() for group in opt.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict:
        return {name: opt.state_dict() for name, opt in self.optimizers.items()}

    def load_state_dict(self, state: dict) -> None:
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state[name])
