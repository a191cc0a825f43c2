"""A short, plain PyTorch training loop for companions (seconds of CPU, tensors in memory).

Companions that train a model use this instead of dlcc.train's Trainer: they need no
callbacks, checkpoints or devices, and a reader can see the whole loop at once.
"""

from __future__ import annotations

import torch
from torch import nn


def fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int, lr: float = 1e-3,
        batch_size: int = 128, loss_fn=None, weight_decay: float = 0.0, seed: int = 0,
        optimizer: str = "adam") -> list[float]:
    """Mini-batch training on in-memory tensors; returns the mean training loss per epoch.

    Args:
        x: inputs `[N, ...]`; y: targets `[N, ...]` (class indices for the default loss).
        loss_fn: defaults to cross-entropy on logits.
        optimizer: "adam" or "sgd" (momentum 0.9).
    """
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    return run_epochs(model, x, y, opt, epochs=epochs, batch_size=batch_size, loss_fn=loss_fn, seed=seed)


def run_epochs(model: nn.Module, x: torch.Tensor, y: torch.Tensor, opt: torch.optim.Optimizer, *,
               epochs: int, batch_size: int, loss_fn=None, seed: int = 0, after_step=None) -> list[float]:
    """The loop itself, for a ready optimizer: each epoch visits the examples in a new random
    order (fixed by `seed`); `after_step()` runs after every update (e.g. a scheduler's step).
    Returns the mean training loss per epoch and leaves the model in eval mode."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    history = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if after_step is not None:
                after_step()
            total += loss.item() * len(idx)
        history.append(total / len(x))
    model.eval()
    return history


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> float:
    """Fraction of samples whose arg-max logit is the label."""
    model.eval()
    correct = 0
    for start in range(0, len(x), batch_size):
        correct += (model(x[start:start + batch_size]).argmax(1) == y[start:start + batch_size]).sum().item()
    return correct / len(x)
