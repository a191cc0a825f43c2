"""Image-quality metrics: PSNR and SSIM of a restored image against the clean one.

Both take numpy arrays `[H, W]` with values in [0, `data_range`] (here [0, 1]); the restored
image should be clipped to that range first, as a saved image would be.

SSIM follows Wang et al. (2004) with the settings of their paper and of scikit-image's
`structural_similarity(..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=1)`: local means, variances and covariance under an 11×11 Gaussian window (σ 1.5),
constants C1 = (0.01 L)², C2 = (0.03 L)², averaged over the pixels at least 5 from the border.
tests/restore checks both functions against scikit-image.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

_TRUNCATE = 3.5                          # 3.5σ: an 11-pixel window for σ = 1.5


def psnr(clean: np.ndarray, restored: np.ndarray, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: `10 log10(range² / MSE)` (inf for identical images)."""
    mse = float(np.mean((np.asarray(clean, np.float64) - np.asarray(restored, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(data_range ** 2 / mse))


def ssim(clean: np.ndarray, restored: np.ndarray, data_range: float = 1.0, sigma: float = 1.5) -> float:
    """Mean structural similarity of two grey images `[H, W]` (1 = identical)."""
    x, y = np.asarray(clean, np.float64), np.asarray(restored, np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"ssim needs two grey images of one shape, got {x.shape} and {y.shape}")

    def blur(a: np.ndarray) -> np.ndarray:
        return gaussian_filter(a, sigma, truncate=_TRUNCATE, mode="reflect")

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    pad = int(_TRUNCATE * sigma + 0.5)   # the window's radius: pixels whose window leaves the image
    return float(s[pad:-pad, pad:-pad].mean())
