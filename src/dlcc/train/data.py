"""Loaders for in-memory arrays that are fast, seeded, and resumable.

`make_loader` indexes a whole batch at once (one fancy-indexing call per batch instead of one
`__getitem__` per sample) and shuffles with its own seeded `torch.Generator`, exposed as
`loader.generator`: the trainer saves its state in checkpoints, so a resumed run sees the same
batch order as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from dlcc.errors import ConfigError


class TensorBatches(Dataset):
    """Equal-length tensors indexed together; `ds[[i, j, k]]` returns whole batches.

    Args:
        *tensors: e.g. images uint8 `[N, C, H, W]` and labels int64 `[N]`.
    """

    def __init__(self, *tensors: torch.Tensor):
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ConfigError(f"tensors of different lengths {[len(t) for t in tensors]}",
                              fix="pass inputs and targets with one row per sample")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index):
        index = torch.as_tensor(index, dtype=torch.long)
        return tuple(t[index] for t in self.tensors)


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = False, seed: int = 0,
                drop_last: bool = False, transform: Callable | None = None,
                num_workers: int = 0) -> DataLoader:
    """A DataLoader of whole batches from a batch-indexable dataset (e.g. `TensorBatches`).

    Args:
        shuffle: a new order every epoch, drawn from `loader.generator` (seeded with `seed`).
        transform: applied to each batch tuple, e.g. `(x, y) -> (augment(x), y)`; random
            transforms should draw from torch's global RNG (saved in checkpoints too).
    """
    if int(batch_size) < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}", fix="e.g. --set batch_size=128")
    generator = torch.Generator().manual_seed(int(seed))
    sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    batches = BatchSampler(sampler, int(batch_size), drop_last)
    # batch_size=None: each "sample" the sampler yields is a list of indices, i.e. a batch.
    return DataLoader(dataset, sampler=batches, batch_size=None, collate_fn=transform or _identity,
                      num_workers=num_workers, generator=generator)


def default_workers(cores: int | None = None) -> int:
    """DataLoader worker processes where they pay: none on a machine of 1-2 cores (training
    needs them, and measured there workers only slowed ISBI patches and ECG chunks down:
    benchmarks/results/input_pipeline.md), else half the cores, at most 4."""
    import os

    cores = cores or os.cpu_count() or 1
    return 0 if cores <= 2 else min(4, cores // 2)


def _identity(batch):
    return batch


def split_indices(n: int, val_size: int | float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random (train, validation) index arrays of `range(n)`; `val_size` is a count or a fraction.

    Uses its own `np.random.default_rng(seed)`, so the split never depends on global RNG state.
    """
    n_val = int(round(val_size * n)) if isinstance(val_size, float) and val_size < 1 else int(val_size)
    if not 0 < n_val < n:
        raise ConfigError(f"validation size {val_size} leaves no training or no validation data "
                          f"out of {n} samples", fix=f"choose a size between 1 and {n - 1}")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])
