"""Tiny synthetic data sets used by several companions (2-D classes, 1-D regression)."""

from __future__ import annotations

import numpy as np


def spiral(n_per_class: int = 100, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """Interleaved spiral arms in 2-D: x `[n*classes, 2]` float32, y `[n*classes]` int64.
    No line (and no stack of linear layers) separates them."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(0, noise, n_per_class)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(n_per_class, k))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def noisy_curve(n: int, noise: float = 0.3, seed: int = 0, fn=None):
    """Samples of y = fn(x) + N(0, noise^2) with x uniform in [-1, 1]: x, y of shape `[n]`.
    The default curve is sin(2.5 x) + 0.5 x."""
    fn = fn or (lambda x: np.sin(2.5 * x) + 0.5 * x)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    return x, fn(x) + rng.normal(0, noise, n)
