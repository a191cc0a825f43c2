"""A4, char-RNN: multi-layer LSTM and GRU language models over characters.

Each character is fed as a one-hot vector of length n_tokens (the vocabulary size); the
network predicts, at every position, scores for the next character.

    x [B, T, n_tokens] one-hot --LSTM/GRU--> [B, T, n_hidden] --Dropout--> --Linear--> [B*T, n_tokens]

Name the layers exactly `self.rnn`, `self.dropout` and `self.fc`: the tests load weights by
these names. (The course called the classes char_rnn_lstm and char_rnn_gru; those names work
too.)
"""

from __future__ import annotations

import torch
from torch import nn


class CharLSTM(nn.Module):
    """Args:
        tokens: the vocabulary, a sequence of distinct characters (index = character id).
        n_hidden: hidden units per layer; n_layers: stacked LSTM layers;
        drop_prob: dropout between LSTM layers (nn.LSTM's `dropout`) and before the Linear.

    forward(x [B, T, n_tokens] float32, hidden (h, c) each [n_layers, B, n_hidden])
        -> (out [B*T, n_tokens] logits, new (h, c)); row b*T + t of out scores the character
        after x[b, t].
    """

    def __init__(self, tokens, n_hidden: int = 512, n_layers: int = 3, drop_prob: float = 0.5):
        super().__init__()
        self.chars = tuple(tokens)
        self.n_tokens, self.n_hidden, self.n_layers, self.drop_prob = len(self.chars), n_hidden, n_layers, drop_prob
        # TODO (A4.1): your code here
        # HINT: nn.LSTM(input size, hidden size, layers, dropout=..., batch_first=True)
        raise NotImplementedError("A4.1: this part of __init__() is not implemented yet")

    def forward(self, x: torch.Tensor, hidden):
        # TODO (A4.1): your code here
        # HINT: the LSTM returns (output [B, T, n_hidden], hidden); reshape to [B*T, n_hidden]
        raise NotImplementedError("A4.1: this part of forward() is not implemented yet")
        return out, hidden

    def init_hidden(self, batch_size: int, device="cpu"):
        """Zeros: (h, c), each [n_layers, batch_size, n_hidden]."""
        h = torch.zeros(self.n_layers, batch_size, self.n_hidden, device=device)
        return h, h.clone()


class CharGRU(nn.Module):
    """As CharLSTM, with nn.GRU: the hidden state is a single tensor h [n_layers, B, n_hidden]."""

    def __init__(self, tokens, n_hidden: int = 512, n_layers: int = 3, drop_prob: float = 0.5):
        super().__init__()
        self.chars = tuple(tokens)
        self.n_tokens, self.n_hidden, self.n_layers, self.drop_prob = len(self.chars), n_hidden, n_layers, drop_prob
        # TODO (A4.2): your code here
        raise NotImplementedError("A4.2: this part of __init__() is not implemented yet")

    def forward(self, x: torch.Tensor, hidden):
        # TODO (A4.2): your code here
        raise NotImplementedError("A4.2: this part of forward() is not implemented yet")
        return out, hidden

    def init_hidden(self, batch_size: int, device="cpu"):
        """Zeros: h [n_layers, batch_size, n_hidden]."""
        return torch.zeros(self.n_layers, batch_size, self.n_hidden, device=device)


char_rnn_lstm, char_rnn_gru = CharLSTM, CharGRU  # the course's names
