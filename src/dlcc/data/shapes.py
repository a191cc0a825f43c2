"""Synthetic segmentation data: bright shapes on a noisy background, with exact masks.

A tiny, download-free stand-in for cell/car segmentation: a U-Net must learn to separate the
shapes from the background despite noise and varying brightness.
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import ConfigError


def make_shapes(n: int, size: int = 64, seed: int = 0, max_shapes: int = 3,
                noise: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """Generate `n` images of 1..max_shapes random discs, rectangles and triangles.

    Returns:
        images float32 [n, 1, size, size] in 0..1 (background 0.1-0.4, shapes 0.6-0.9,
               plus Gaussian noise of std `noise`, clipped),
        masks  uint8  [n, size, size], 1 inside any shape, 0 elsewhere (never all-zero).
    Same arguments give the same arrays.
    """
    if int(n) < 1 or int(size) < 8 or int(max_shapes) < 1 or noise < 0:
        raise ConfigError(f"make_shapes needs n >= 1, size >= 8, max_shapes >= 1, noise >= 0; "
                          f"got n={n}, size={size}, max_shapes={max_shapes}, noise={noise}",
                          fix="e.g. make_shapes(64, size=64)")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    images = np.empty((n, 1, size, size), np.float32)
    masks = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        image = np.full((size, size), rng.uniform(0.1, 0.4), np.float32)
        for _ in range(rng.integers(1, max_shapes + 1)):
            inside = _random_shape(rng, xx, yy, size)
            image[inside] = rng.uniform(0.6, 0.9)
            masks[i][inside] = 1
        image += rng.normal(0.0, noise, image.shape).astype(np.float32)
        images[i, 0] = np.clip(image, 0.0, 1.0)
    return images, masks


def _random_shape(rng, xx, yy, size) -> np.ndarray:
    """Boolean [size,size] of one disc, rectangle or triangle fully inside the image."""
    r = rng.uniform(size / 10, size / 5)
    cx, cy = rng.uniform(r + 1, size - r - 1, 2)
    kind = rng.integers(3)
    if kind == 0:
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r ** 2
    if kind == 1:
        hw, hh = r * rng.uniform(0.6, 1.0, 2)
        return (np.abs(xx - cx) <= hw) & (np.abs(yy - cy) <= hh)
    angles = rng.uniform(0, 2 * np.pi) + np.array([0, 2, 4]) * np.pi / 3
    px, py = cx + r * np.cos(angles), cy + r * np.sin(angles)
    # inside when the point is on the same side of all three edges
    sides = [(px[j] - px[j - 1]) * (yy - py[j - 1]) - (py[j] - py[j - 1]) * (xx - px[j - 1])
             for j in range(3)]
    return ((sides[0] >= 0) & (sides[1] >= 0) & (sides[2] >= 0)) | (
        (sides[0] <= 0) & (sides[1] <= 0) & (sides[2] <= 0))
