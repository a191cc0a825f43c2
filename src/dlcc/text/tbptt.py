"""Truncated back-propagation through time with the hidden state carried between batches.

`CarryHidden` wraps a recurrent language model (`CharRNN`) so that an ordinary training loop
— one that only calls `logits = model(x)` — trains it the char-RNN way: the state at the end
of batch i starts batch i+1, but it is detached, so gradients flow back at most one window
(`seq_len` steps). Feed it `SequentialWindows`, whose rows continue from batch to batch.
Training and evaluation keep separate states, so a validation pass never disturbs training;
the evaluation state starts empty each time the model enters eval mode (each validation pass
reads the validation text from its start). Call `reset()` whenever the training stream
restarts (at the start of every epoch).
"""

from __future__ import annotations

import torch
from torch import nn


def detach_hidden(hidden):
    """Cut the autograd history of a hidden state (tensor or (h, c) tuple), keeping its values."""
    if hidden is None:
        return None
    if isinstance(hidden, tuple):
        return tuple(h.detach() for h in hidden)
    return hidden.detach()


def _batch_size(hidden) -> int:
    return (hidden[0] if isinstance(hidden, tuple) else hidden).shape[1]


class CarryHidden(nn.Module):
    """model(x) -> logits `[B, T, V]`, remembering the (detached) hidden state for the next call.

    The state is dropped when the batch size changes (e.g. a shorter last batch) or on `reset()`.
    """

    recurrent = False     # to callers it is a plain `ids -> logits` model

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self._state: dict[bool, object] = {True: None, False: None}

    def reset(self) -> None:
        self._state = {True: None, False: None}

    def train(self, mode: bool = True):
        if self.training and not mode:   # a new evaluation pass: read from the start again
            self._state[False] = None
        return super().train(mode)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        hidden = self._state[self.training]
        if hidden is not None and _batch_size(hidden) != idx.shape[0]:
            hidden = None
        logits, hidden = self.model(idx, hidden)
        self._state[self.training] = detach_hidden(hidden)
        return logits
