"""Tiny finished runs for the tests of commands that read run directories (attack, explain,
export): seconds to make, real run directories written by `dlcc run`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def stand_in_cifar(n_train: int = 200, n_test: int = 60, seed: int = 0) -> dict:
    """Random uint8 images in CIFAR-10's layout (load_cifar10's return value)."""
    rng = np.random.default_rng(seed)
    return {"train": (rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n_train)),
            "test": (rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n_test))}


def run(out: Path, recipe: str, *settings: str, cifar: dict | None = None) -> Path:
    """`dlcc run recipe --out out --set settings...` (CIFAR-10 replaced by `cifar` when given)."""
    import dlcc.data
    from dlcc.cli import main

    mp = pytest.MonkeyPatch()
    if cifar is not None:
        mp.setattr(dlcc.data, "load_cifar10", lambda data_dir=None, variant=None: cifar, raising=False)
    try:
        code = main(["run", recipe, "--out", str(out), "--no-progress", *[a for s in settings for a in ("--set", s)]])
    finally:
        mp.undo()
    assert code == 0, f"tiny {recipe} run failed"
    return out


def fast_run(out: Path) -> Path:
    """cifar10-fast, 1 epoch of an 8-8-8 net on 200 random stand-in images."""
    return run(out, "cifar10-fast", "train.epochs=1", "train.batch_size=50", "model.widths=[8,8,8]",
               "whiten.images=100", cifar=stand_in_cifar())


def mnist1d_run(out: Path) -> Path:
    """mnist1d-cnn, 3 epochs on the real (generated) MNIST-1D: test accuracy around 0.5."""
    return run(out, "mnist1d-cnn", "train.epochs=3")


def isbi_run(out: Path) -> Path:
    """isbi-unet on real ISBI 2012 slices, 2 epochs of a depth-2, width-8 U-Net."""
    return run(out, "isbi-unet", "train.epochs=2", "data.patch=64", "data.patches_per_epoch=8",
               "train.batch_size=4", "model.width=8", "model.depth=2", "data.test_slices=[28,29]",
               "data.val_slices=[27]", "eval.images=1")
