"""Drawing samples from a trained generator."""

from __future__ import annotations

import torch
from torch import nn


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """`[n]` int64 labels 0, 1, ..., K-1, 0, 1, ...: every class equally often (to within one);
    in a grid of K columns each column is one class (the course's layout)."""
    return torch.arange(n) % num_classes


@torch.no_grad()
def generate(G: nn.Module, n: int, latent: int, num_classes: int = 0, generator: torch.Generator | None = None,
             labels: torch.Tensor | None = None, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`n` samples of `G` in eval mode, on the CPU: `(samples [n, ...], labels [n] or None)`.

    The noise z ~ N(0, I) `[n, latent]` is drawn on the CPU from `generator` (so a seed gives the
    same samples on every device); a conditional generator gets `labels` (default: balanced).
    """
    if num_classes and labels is None:
        labels = balanced_labels(n, num_classes)
    z = torch.randn(n, latent, generator=generator)
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()
    try:
        out = []
        for i in range(0, n, batch):
            zi = z[i:i + batch].to(device)
            x = G(zi, labels[i:i + batch].to(device)) if num_classes else G(zi)
            out.append(x.float().cpu())
    finally:
        G.train(was_training)
    return torch.cat(out), labels
