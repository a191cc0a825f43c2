"""Seeding for reproducible runs."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int, deterministic: bool = True) -> np.random.Generator:
    """Seed Python's `random`, NumPy's global state and torch (CPU and CUDA).

    With `deterministic`, also ask torch for deterministic kernels (cuDNN deterministic, no
    benchmark autotuning) so that two runs with one seed give the same weights on one machine.

    Returns:
        A fresh `np.random.Generator` seeded with `seed`, for code that prefers explicit RNGs.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import torch
    except ImportError:  # the NumPy engine works without torch
        return np.random.default_rng(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        # warn_only: some ops (e.g. index_add on CUDA) have no deterministic kernel.
        torch.use_deterministic_algorithms(True, warn_only=True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return np.random.default_rng(seed)
