"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al., 2020).

Two augmented views of each of B images give 2B embeddings. For each embedding the other
view of the same image is the positive and the remaining 2B - 2 embeddings are negatives:

    loss_i = -log( exp(sim(z_i, z_p(i)) / τ) / Σ_{k ≠ i} exp(sim(z_i, z_k) / τ) )

with `sim` the cosine similarity, averaged over all 2B embeddings. It is a (2B - 1)-way
classification of "which of the others is my partner", so `F.cross_entropy` on the similarity
matrix (its diagonal removed) computes it in one call.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dlcc.errors import ConfigError


def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.5) -> Tensor:
    """The NT-Xent loss of two views.

    Args:
        z1, z2: `[B, D]` embeddings; row i of `z1` and row i of `z2` are views of image i.
        temperature: τ > 0; lower values weigh the hardest negatives more.

    Returns:
        a scalar: the mean of the 2B per-embedding losses.
    """
    if not temperature > 0:
        raise ConfigError(f"the NT-Xent temperature must be > 0, got {temperature}", fix="e.g. temperature=0.5")
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f"nt_xent needs two [B, D] views of the same shape, got {tuple(z1.shape)} and {tuple(z2.shape)}")
    b = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)          # [2B, D], unit rows
    logits = z @ z.T / temperature                                # [2B, 2B] cosine / τ
    # an embedding is never its own negative: -inf removes the diagonal from the softmax
    logits = logits.masked_fill(torch.eye(2 * b, dtype=torch.bool, device=z.device), float("-inf"))
    partner = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)]).to(z.device)
    return F.cross_entropy(logits, partner)


def positive_accuracy(z1: Tensor, z2: Tensor) -> Tensor:
    """Share of the 2B embeddings whose most similar other embedding is their partner (a
    training-progress signal: 1/(2B-1) by chance)."""
    b = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    sim = (z @ z.T).fill_diagonal_(float("-inf"))
    partner = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)]).to(z.device)
    return (sim.argmax(1) == partner).float().mean()
