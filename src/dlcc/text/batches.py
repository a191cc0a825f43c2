"""Turning one long stream of character ids into training batches.

Two ways, both with targets y = x shifted by one character:

- `RandomWindows`: each batch holds B windows starting at random positions (how GPTs train).
- `SequentialWindows`: the stream is cut into B parallel rows and consumed left to right, so
  row b of batch i+1 continues row b of batch i. That is what truncated back-propagation
  through time needs: the recurrent state at the end of one batch is the right starting state
  for the next (see `dlcc.text.tbptt.CarryHidden`).

Both are plain iterables of `(x, y)` int64 tensors `[B, T]` with a `len()`, so any training
loop that iterates a DataLoader can iterate them.
"""

from __future__ import annotations

import numpy as np
import torch

from dlcc.errors import ConfigError, InputError


def split_by_position(ids: np.ndarray, val_frac: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """First (1 - val_frac) of the stream for training, the rest for validation.

    A split by position (not by random characters or lines) keeps validation text unseen as
    contiguous prose. Shapes: ids `[N]` -> `[N_train]`, `[N_val]`.
    """
    if not 0.0 < val_frac < 1.0:
        raise ConfigError(f"val_frac must be between 0 and 1; got {val_frac}", fix="e.g. --set data.val_frac=0.1")
    cut = int(round(len(ids) * (1.0 - val_frac)))
    return ids[:cut], ids[cut:]


def _need(ids: np.ndarray, length: int, what: str) -> None:
    if len(ids) < length:
        raise InputError(f"the {what} text has {len(ids)} characters but one batch window needs "
                         f"{length}", fix="use a longer text, a smaller data.val_frac, or a smaller "
                                         "block/seq length (e.g. --set data.block_size=32)")


class RandomWindows:
    """`steps` batches of `batch_size` random windows of `block_size` characters.

    Yields x `[B, T]`, y `[B, T]` int64 with y[:, t] = stream[start + t + 1]. A fixed `seed`
    gives the same batches each time the iterable is restarted with `reseed=True`, otherwise
    every pass draws new windows.
    """

    def __init__(self, ids: np.ndarray, batch_size: int, block_size: int, steps: int,
                 seed: int = 0, reseed: bool = False, what: str = "training"):
        _need(ids, block_size + 1, what)
        self.data = torch.as_tensor(np.ascontiguousarray(ids), dtype=torch.long)
        self.batch_size, self.block_size, self.steps = batch_size, block_size, steps
        self.seed, self.reseed = seed, reseed
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        if self.reseed:
            self.generator.manual_seed(self.seed)
        offsets = torch.arange(self.block_size + 1)
        high = len(self.data) - self.block_size
        for _ in range(self.steps):
            starts = torch.randint(high, (self.batch_size,), generator=self.generator)
            window = self.data[starts[:, None] + offsets]          # [B, T+1]
            yield window[:, :-1], window[:, 1:]


class SequentialWindows:
    """The stream as `batch_size` parallel rows read in consecutive `seq_len` windows.

    The stream is trimmed to a multiple of batch_size * seq_len (+1 for the shifted target) and
    reshaped to `[B, N]`; batch i is columns [i*T, (i+1)*T). Yields x, y `[B, T]` int64.
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int, what: str = "training"):
        _need(ids, batch_size * seq_len + 1, what)
        n = (len(ids) - 1) // (batch_size * seq_len) * (batch_size * seq_len)
        data = torch.as_tensor(np.ascontiguousarray(ids), dtype=torch.long)
        self.x = data[:n].view(batch_size, -1)
        self.y = data[1:n + 1].view(batch_size, -1)
        self.seq_len = seq_len

    def __len__(self) -> int:
        return self.x.shape[1] // self.seq_len

    def __iter__(self):
        for i in range(len(self)):
            cols = slice(i * self.seq_len, (i + 1) * self.seq_len)
            yield self.x[:, cols], self.y[:, cols]
