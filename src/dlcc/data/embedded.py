"""Datasets that need no download: scikit-learn's digits and generated MNIST-1D."""

from __future__ import annotations

import importlib.metadata
import random

import numpy as np

from dlcc.errors import DataError


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's 8x8 handwritten digits (1,797 images), split reproducibly.

    Returns:
        {"train": (x float32 [1437,8,8] scaled to 0..1 (raw 0..16 divided by 16), y int64),
         "test":  (x float32 [360,8,8], y int64)}
        The split is stratified by class and fixed by `seed` (defaults give the sizes above).
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise DataError("the digits dataset needs scikit-learn, which is not installed",
                        fix="pip install scikit-learn") from None
    if not 0 < test_fraction < 1:
        raise DataError(f"test_fraction must be between 0 and 1, got {test_fraction}",
                        fix="pass e.g. test_fraction=0.2")
    bunch = sk_load_digits()
    x = (bunch.images / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                              stratify=y)
    return {"train": (x_tr, y_tr), "test": (x_te, y_te)}


def load_mnist1d(seed: int = 42) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST-1D generated offline with the `mnist1d` package's default arguments.

    Returns:
        {"train": (x float32 [4000,40], y int64 [4000]),
         "test":  (x float32 [1000,40], y int64 [1000])}
        x is standardised over the whole set (mean 0, std 1), as the package does; labels 0..9.
        seed=42 is the package default. Generation (about 3 s) runs once; the arrays are cached.
        Uses `make_dataset` only (never the package's `get_dataset`, which can download), and
        restores the global `random`/`numpy.random` state the package reseeds.
    """
    from dlcc.data.cache import cached_arrays

    try:
        import mnist1d
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise DataError("MNIST-1D needs the mnist1d package, which is not installed",
                        fix="pip install mnist1d") from None

    def build():
        args = get_dataset_args()
        args.seed = int(seed)
        py_state, np_state = random.getstate(), np.random.get_state()
        try:
            data = make_dataset(args)
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
        return {"train_x": data["x"].astype(np.float32), "train_y": data["y"].astype(np.int64),
                "test_x": data["x_test"].astype(np.float32), "test_y": data["y_test"].astype(np.int64)}

    try:
        version = importlib.metadata.version("mnist1d")
    except importlib.metadata.PackageNotFoundError:
        version = getattr(mnist1d, "__version__", "unknown")
    a = cached_arrays("mnist1d", {"seed": str(seed), "mnist1d": str(version)}, build)
    return {"train": (a["train_x"], a["train_y"]), "test": (a["test_x"], a["test_y"])}
