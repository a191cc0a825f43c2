"""Target-task splits: a subset of the classes, relabelled, and a balanced few-label sample.

    x, y = class_subset(images, labels, classes=[5, 6, 7, 8, 9])     # labels become 0..4
    labelled, val = labelled_split(y, n_labels=100, val_size=500, seed=0)

The validation examples are drawn first and the labelled ones from the rest, so the labelled
set grows by adding examples (the 250-label set holds the 100-label set for the same seed) while
the validation split stays the same at every label count - a learning curve then compares like
with like.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dlcc.errors import ConfigError


def class_subset(x: np.ndarray, y: np.ndarray, classes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The examples of `classes`, labels renumbered 0..len(classes)-1 in the order given.

    `x [N, ...]`, `y int [N]` -> `x [M, ...]`, `y int64 [M]` (M: examples of those classes).
    """
    classes = [int(c) for c in classes]
    if len(set(classes)) != len(classes) or not classes:
        raise ConfigError(f"classes {classes} must be distinct and non-empty", fix="e.g. classes=[5,6,7,8,9]")
    keep = np.isin(y, classes)
    new = np.full(int(max(classes)) + 1, -1, dtype=np.int64)
    new[classes] = np.arange(len(classes))
    return x[keep], new[np.asarray(y)[keep]]


def labelled_split(y: np.ndarray, n_labels: int, val_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(labelled indices `[n_labels]`, validation indices `[val_size]`), disjoint, each balanced
    over the classes in `y` (counts differ by at most one; the extra ones go to the first classes).

    Raises ConfigError when a class has too few examples for its share.
    """
    y = np.asarray(y)
    classes = np.unique(y)
    k = len(classes)
    if n_labels < k:
        raise ConfigError(f"transfer.labels={n_labels} is fewer than the {k} target classes (one example each "
                          "at least)", fix=f"--set transfer.labels={max(k, 100)}")
    rng = np.random.default_rng(seed)
    per_class = {c: rng.permutation(np.flatnonzero(y == c)) for c in classes}
    shares_val, shares_lab = _shares(val_size, k), _shares(n_labels, k)
    available = min(len(idx) for idx in per_class.values())
    most = max(shares_val) + max(shares_lab)
    if most > available:
        limit = available * k - val_size
        raise ConfigError(f"transfer.labels={n_labels} with transfer.val_size={val_size} needs {most} examples of "
                          f"each class, but the smallest target class has {available} training examples",
                          fix=f"--set transfer.labels={max(limit, 0)} or less (or a smaller transfer.val_size)")
    val = np.concatenate([per_class[c][: shares_val[i]] for i, c in enumerate(classes)])
    lab = np.concatenate([per_class[c][shares_val[i]: shares_val[i] + shares_lab[i]] for i, c in enumerate(classes)])
    return np.sort(lab), np.sort(val)


def _shares(n: int, k: int) -> list[int]:
    """`n` split over `k` classes as evenly as possible."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]
