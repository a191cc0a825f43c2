"""Checkpoints that load with `torch.load(path, weights_only=True)`, and exact resume.

A checkpoint is a dict of state dicts, tensors, numbers, strings, lists and dicts only (no
pickled objects), so loading one never runs code from the file:

    {"format": "dlcc-checkpoint", "version": 1, "epoch": 3, "global_step": 552,
     "model": ..., "optimizer": ..., "scheduler": ... | None, "scaler": ... | None,
     "rng": {"torch": ByteTensor, "cuda": [ByteTensor, ...], "numpy": {...}, "python": {...}},
     "loaders": {"train": ByteTensor | None, "val": ...},     # torch.Generator states
     "callbacks": {"BestModel": {...}, ...}, "history": [{...}, ...],
     "stop_reason": None, "config": {...}, "torch_version": "2.x"}

Files are written to a temporary name and renamed, so a kill during a save leaves the previous
checkpoint intact. `Checkpointer` is the callback that saves `last.pt` every N epochs and, with
`resume=True`, restores the trainer from it before the first epoch.
"""

from __future__ import annotations

import os
import pickle
import random
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dlcc.errors import DataError
from dlcc.train.callbacks import Callback

FORMAT = "dlcc-checkpoint"
VERSION = 1


def capture_rng_state() -> dict[str, Any]:
    """The state of every global RNG a training step may use, as weights-only-safe values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put back what `capture_rng_state` returned."""
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    npy = state["numpy"]
    np.random.set_state((npy["kind"], npy["keys"].numpy().astype(np.uint32), npy["pos"],
                         npy["has_gauss"], npy["cached_gaussian"]))
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss_next"]))


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Write `state` to `path` atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint with `weights_only=True`.

    Raises:
        DataError: the file is missing, truncated, corrupt, or holds pickled objects.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} does not exist",
                        fix="check the path, or start a new run without --resume")
    if not zipfile.is_zipfile(path):   # torch.save writes a zip archive; anything else is damaged
        raise DataError(f"checkpoint {path} is not a PyTorch checkpoint (corrupt or truncated: "
                        f"{path.stat().st_size} bytes)", fix=f"delete {path.name} to start over, or use an intact copy")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise DataError(f"checkpoint {path} holds pickled Python objects, which dlcc does not load "
                        "(loading them could run code from the file)",
                        fix="use a checkpoint written by dlcc (tensors, numbers and strings only)") from None
    except Exception as exc:  # torch raises several types for damaged archives
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise DataError(f"checkpoint {path} cannot be read (corrupt or truncated): {first}",
                        fix=f"delete {path.name} to start over, or use an intact copy") from None
    if not isinstance(state, dict):
        raise DataError(f"checkpoint {path} holds a {type(state).__name__}, not a dict of state dicts",
                        fix="save checkpoints with dlcc.train.save_checkpoint")
    return state


class Checkpointer(Callback):
    """Save the whole trainer state to `directory/last.pt` every `every` evaluations (and at
    the last one, or an early stop); with `resume`, restore from it in `on_fit_start`.

    Put it last in the callback list, so that the state of the callbacks before it (best model,
    early stopping) is saved after they have seen the epoch. `fit(out_dir=...)` does that.
    With `keep_all`, every saved checkpoint is also kept as `step_NNNNNNN.pt`.
    """

    def __init__(self, directory: str | Path, every: int = 1, resume: bool = False,
                 keep_all: bool = False, log=None):
        self.directory = Path(directory)
        self.every = max(1, int(every))
        self.resume = resume
        self.keep_all = keep_all
        self.log = log
        self.resumed_from: int | None = None

    @property
    def last_path(self) -> Path:
        return self.directory / "last.pt"

    def on_fit_start(self, trainer):
        if not self.resume:
            return
        if not self.last_path.exists():
            if self.log:
                self.log(f"no checkpoint in {self.directory}; starting from epoch 1")
            return
        trainer.load_state_dict(load_checkpoint(self.last_path))
        self.resumed_from = trainer.global_step
        if self.log:
            self.log(f"resumed from {self.last_path} at epoch {trainer.epoch}, step {trainer.global_step}")

    def on_eval(self, trainer, metrics):
        from dlcc.train.distributed import is_main

        if len(trainer.history) % self.every and not trainer.finished():
            return
        state = trainer.state_dict()   # on every rank: gathering sharded (FSDP) weights is collective
        if not is_main():
            return   # with several processes, rank 0 writes (the state is the same on every rank)
        save_checkpoint(self.last_path, state)
        if self.keep_all:
            save_checkpoint(self.directory / f"step_{trainer.global_step:07d}.pt", state)
