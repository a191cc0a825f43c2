"""Training on several processes (torchrun): process group, batch sharding, reductions.

    torchrun --nproc_per_node 2 -m dlcc run mnist1d-mlp ...      # what `dlcc run --nproc 2` starts

Each process (rank) holds the whole model (DistributedDataParallel averages the gradients) and
reads the *same* seeded loader as a single process would, keeping only every `world`-th batch:
rank r trains on batches r, r + W, r + 2W, ... So W processes at batch B take exactly the steps
of one process at batch W·B over the same samples (the gradient of a mean over W·B samples is
the mean of the W per-rank gradients), augmentation drawn from the loader's generator is the
same as in one process, and a checkpoint's loader state is the same on every rank, so a
multi-process run resumes exactly. Reading every batch on every rank costs a little data work
per rank; dlcc's loaders serve batches from decoded arrays in memory, where that is cheap.

Rank 0 writes the run directory (checkpoints, metrics, figures, tracker logs); every rank takes
the same decisions (selection, early stopping, time budget) from metrics all-reduced across ranks.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Iterator

import torch
import torch.distributed as dist

from dlcc.errors import ConfigError


def rank() -> int:
    return dist.get_rank() if is_active() else 0


def world_size() -> int:
    return dist.get_world_size() if is_active() else 1


def is_active() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def is_main() -> bool:
    """Rank 0 (or the only process): the one that writes files and logs."""
    return rank() == 0


def launched() -> bool:
    """True when torchrun started this process (its environment names a world of processes)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init(device: torch.device, timeout_s: float = 120.0) -> None:
    """Join the process group torchrun set up (gloo on CPU, NCCL on CUDA), once."""
    if not launched() or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend, timeout=_dt.timedelta(seconds=timeout_s))


def local_device(device: torch.device) -> torch.device:
    """This rank's device: its own GPU (LOCAL_RANK) on CUDA, the CPU otherwise."""
    if device.type == "cuda" and launched():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def barrier() -> None:
    if is_active():
        dist.barrier()


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sums across ranks (the values themselves with one process)."""
    if not is_active():
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True when `flag` is true on any rank (every rank gets the same answer)."""
    if not is_active():
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


class ShardedBatches:
    """Every `world`-th batch of `loader`, starting at `rank` (see the module docstring).

    `drop_remainder=True` (training) gives every rank the same number of batches,
    `len(loader) // world`, so no rank waits for a gradient the others never send; evaluation
    keeps the remainder (`ceil`) and reduces sums instead. `generator`, `dataset` and `epoch`
    are the wrapped loader's, so checkpoints save and restore its state as usual.
    """

    def __init__(self, loader: Iterable, rank: int, world: int, drop_remainder: bool = True):
        if not hasattr(loader, "__len__"):
            raise ConfigError("a loader without a length cannot be split across processes",
                              fix="give the loader a __len__ (dlcc's loaders have one)")
        self.loader, self.rank, self.world, self.drop_remainder = loader, rank, world, drop_remainder
        if drop_remainder and len(loader) < world:
            raise ConfigError(f"the training data has {len(loader)} batch(es) per epoch, fewer than the "
                              f"{world} processes", fix="use fewer processes (--nproc) or a smaller train.batch_size")

    def __len__(self) -> int:
        n = len(self.loader)
        if self.drop_remainder:
            return n // self.world
        return len(range(self.rank, n, self.world))

    def __iter__(self) -> Iterator:
        # Read a whole group of `world` batches before yielding this rank's: a loader that draws
        # its random numbers batch by batch (RandomWindows) then advances equally on every rank,
        # even when the caller stops reading right after this rank's last batch.
        total = len(self) * self.world if self.drop_remainder else len(self.loader)
        it = iter(self.loader)
        for start in range(0, total, self.world):
            group = [next(it) for _ in range(min(self.world, total - start))]
            if self.rank < len(group):
                yield group[self.rank]

    def __getattr__(self, name: str):
        if name in ("generator", "dataset", "epoch"):
            return getattr(self.loader, name)
        raise AttributeError(name)

    def __setattr__(self, name: str, value) -> None:
        if name == "epoch" and "loader" in self.__dict__:
            setattr(self.loader, name, value)
        else:
            super().__setattr__(name, value)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The network inside DistributedDataParallel (and torch.compile), for state dicts."""
    inner = getattr(model, "module", model) if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model
    return getattr(inner, "_orig_mod", inner)
