"""Recurrent networks: character language models and a per-time-step tagger.

- `CharRNN`: the course's char-RNN (`char_rnn_lstm` / `char_rnn_gru`), plus a vanilla tanh
  RNN: one-hot characters (or a learned embedding) -> multi-layer LSTM/GRU/RNN -> Dropout ->
  Linear to the vocabulary. ids `[B, T]` int64 (+ hidden) -> (logits `[B, T, V]`, hidden).
- `RNNTagger`: a (bi)directional GRU/LSTM over a multi-lead signal that emits one logit per
  time step, for ECG trigger detection. x `[B, T, C]` float32 -> logits `[B, T]`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dlcc.errors import ConfigError, InputError

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}

Hidden = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


def _cell(name: str) -> type[nn.RNNBase]:
    try:
        return CELLS[name.lower()]
    except (KeyError, AttributeError):
        raise ConfigError(f"unknown recurrent cell {name!r}", fix=f"use one of {', '.join(CELLS)}") from None


class CharRNN(nn.Module):
    """Multi-layer LSTM/GRU/vanilla-RNN language model over characters.

    Args:
        vocab_size: number of distinct characters V.
        hidden: hidden units per layer (course: 512).
        layers: stacked recurrent layers (course: 3 or 4).
        cell: "lstm", "gru" or "rnn" (Elman, tanh).
        dropout: between recurrent layers and before the output layer (course: 0.5).
        embed_dim: None feeds one-hot vectors (as the course does); an int learns an embedding.

    Shapes: idx `[B, T]` int64, hidden from `init_hidden(B)` or a previous call (None = zeros)
    -> logits `[B, T, V]` float32 and the new hidden state (LSTM: (h, c), each
    `[layers, B, hidden]`; GRU/RNN: h `[layers, B, hidden]`).
    """

    recurrent = True

    def __init__(self, vocab_size: int, hidden: int = 512, layers: int = 3, cell: str = "lstm",
                 dropout: float = 0.5, embed_dim: int | None = None):
        super().__init__()
        self.vocab_size, self.hidden, self.layers = vocab_size, hidden, layers
        self.cell = cell.lower()
        self.embed = nn.Embedding(vocab_size, embed_dim) if embed_dim else None
        in_size = embed_dim or vocab_size
        self.rnn = _cell(cell)(in_size, hidden, layers, batch_first=True,
                               dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden, vocab_size)

    def init_hidden(self, batch_size: int, device: torch.device | str | None = None) -> Hidden:
        """Zeros: LSTM (h, c), GRU/RNN h, each `[layers, batch_size, hidden]`."""
        h = torch.zeros(self.layers, batch_size, self.hidden, device=device)
        return (h, h.clone()) if self.cell == "lstm" else h

    def forward(self, idx: torch.Tensor, hidden: Hidden | None = None) -> tuple[torch.Tensor, Hidden]:
        if idx.dim() != 2:
            raise InputError(f"CharRNN expects token ids [B, T]; got shape {tuple(idx.shape)}")
        x = self.embed(idx) if self.embed is not None else F.one_hot(idx, self.vocab_size).float()
        out, hidden = self.rnn(x, hidden)
        return self.fc(self.drop(out)), hidden


class RNNTagger(nn.Module):
    """GRU/LSTM sequence tagger: one logit per time step.

    Args:
        in_channels: leads C.
        hidden: units per direction per layer.
        layers: stacked layers.
        cell: "gru", "lstm" or "rnn".
        bidirectional: read the window both ways (retrospective detection); False is causal.
        dropout: between recurrent layers.
        patch: samples per step; the recurrence runs over T/patch steps (faster on a CPU) and
            the head emits `patch` logits per step. The input is zero-padded to a multiple.

    Shapes: x `[B, T, C]` float32 -> logits `[B, T]` float32.
    """

    def __init__(self, in_channels: int = 2, hidden: int = 64, layers: int = 2, cell: str = "gru",
                 bidirectional: bool = True, dropout: float = 0.0, patch: int = 1):
        super().__init__()
        if patch < 1:
            raise ConfigError(f"patch must be >= 1; got {patch}", fix="use patch=1")
        self.in_channels, self.patch = in_channels, patch
        self.rnn = _cell(cell)(in_channels * patch, hidden, layers, batch_first=True,
                               dropout=dropout if layers > 1 else 0.0, bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[2] != self.in_channels:
            raise InputError(f"RNNTagger expects a signal [B, T, {self.in_channels}]; "
                             f"got shape {tuple(x.shape)}")
        B, T, C = x.shape
        n = math.ceil(T / self.patch)
        x = F.pad(x, (0, 0, 0, n * self.patch - T))
        out, _ = self.rnn(x.reshape(B, n, self.patch * C))
        return self.head(out).reshape(B, n * self.patch)[:, :T]
