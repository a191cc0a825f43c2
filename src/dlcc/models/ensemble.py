"""A deep ensemble of binary taggers: the mean of the members' probabilities, as one module.

The members (e.g. the models of a cross-validation, each trained without one fold) answer the
same question; averaging their probabilities cancels much of what each learned by chance
(Lakshminarayanan et al. 2017). The module returns logits, so it drops in wherever one of its
members did (`dlcc.signals.predict_probs` applies the sigmoid).
"""

from __future__ import annotations

import torch
from torch import nn

from dlcc.errors import ConfigError


class MeanProbability(nn.Module):
    """`logit(mean_k sigmoid(member_k(x)))`.

    Shapes: whatever the members take, e.g. x `[B, T, C]` -> logits `[B, T]` float32.
    """

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if not members:
            raise ConfigError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = torch.stack([torch.sigmoid(m(x).float()) for m in self.members]).mean(0)
        return torch.logit(p, eps=1e-7)
