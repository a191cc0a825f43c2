"""A4, trigger detection: a transformer encoder that tags every ECG sample.

`Block` (pre-LN: x + Attn(LN(x)), then x + MLP(LN(x)), adapted from minGPT) comes from dlcc,
as the course gave it. You write the forward pass of `ECGDetector` and the loss.

    x [B, T, C] --Linear(C, n_embd)--> + positions [1, T, n_embd] --Dropout--> n_layer x Block
      --LayerNorm--> --Linear(n_embd, 1, no bias)--> logits [B, T, 1]
"""

from __future__ import annotations

import torch
from torch import nn

from dlcc.models.transformer import Block, init_gpt_weights


class ECGDetector(nn.Module):
    """Args:
        C: input channels (ECG leads); T: the longest input length (positions table);
        n_layer, n_head, n_embd, dropout: transformer size (course: 8, 8, 256, 0.1);
        is_causal: mask attention so that sample t only sees samples <= t (real-time use).
            The course's model was not causal: it detected triggers retrospectively.

    forward(x [B, t, C] float32, t <= T) -> logits [B, t, 1] float32 (apply a sigmoid for the
    probability that a sample is a trigger).
    """

    def __init__(self, C: int = 2, T: int = 1024, n_layer: int = 8, n_head: int = 8, n_embd: int = 256,
                 dropout: float = 0.1, is_causal: bool = False):
        super().__init__()
        self.C, self.T = C, T
        self.input_proj = nn.Linear(C, n_embd)
        self.pos_emb = nn.Parameter(torch.zeros(1, T, n_embd))   # learned positional embedding
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head, dropout, causal=is_causal) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, 1, bias=False)
        self.apply(init_gpt_weights)   # N(0, 0.02) weights, zero biases, LayerNorm (1, 0)
        nn.init.normal_(self.pos_emb, mean=0.0, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A4.4): your code here
        # HINT: an input shorter than T uses the first t positions: self.pos_emb[:, :t]
        raise NotImplementedError("A4.4: this part of forward() is not implemented yet")
        return logits


class LossTriggerDetection:
    """Binary cross-entropy between sigmoid(logits) and the (soft) trigger targets, averaged
    over every sample of every sequence.

    __call__(scores [B, T, 1] or [B, T] logits, y [B, T] targets in [0, 1]) -> scalar tensor.
    Careful with a batch of one sequence: [1, T, 1].squeeze() is [T], not [1, T].
    """

    def __init__(self):
        self.bce_loss = nn.BCELoss()

    def __call__(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # TODO (A4.5): your code here
        # HINT: torch.sigmoid, then reshape to y's shape, then self.bce_loss(probabilities, y)
        raise NotImplementedError("A4.5: this part of __call__() is not implemented yet")
        return loss
