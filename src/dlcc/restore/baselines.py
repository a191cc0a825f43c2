"""Classical restorers run beside the networks, each with its one parameter chosen fairly.

Denoisers (numpy `[H, W]` noisy image, σ on 0-255 -> `[H, W]` estimate):

| name     | method                                   | parameter tried (chosen on training slices)   |
|----------|------------------------------------------|-----------------------------------------------|
| gaussian | Gaussian blur (scipy.ndimage)            | blur σ in pixels                              |
| median   | median filter (scipy.ndimage)            | window side                                   |
| nlm      | non-local means (scikit-image, fast mode)| h as a multiple of the noise σ; 5×5 patches, 13×13 search window |
| tv       | total variation, Chambolle (scikit-image)| regularisation weight                         |

`choose_parameters` picks, for every method, the value of its grid with the best mean PSNR on
the given (training) pairs - never on the test slices, so the baselines are tuned exactly as
fairly as the network is trained. Super-resolution's classical baseline, bicubic upsampling,
has no parameter (`dlcc.restore.models.bicubic_up`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from dlcc.errors import ConfigError
from dlcc.restore.quality import psnr


def _skimage_restoration():
    try:
        from skimage import restoration
    except ImportError:
        raise ConfigError("non-local means and total variation need scikit-image, which is not installed",
                          fix="pip install 'dlcc[restore]' (or --set eval.baselines=[gaussian,median])") from None
    return restoration


def _gaussian(noisy: np.ndarray, p: float, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(noisy, p, mode="reflect")


def _median(noisy: np.ndarray, p: float, sigma: float) -> np.ndarray:
    return ndimage.median_filter(noisy, size=int(p), mode="reflect")


def _nlm(noisy: np.ndarray, p: float, sigma: float) -> np.ndarray:
    s = sigma / 255.0
    return _skimage_restoration().denoise_nl_means(noisy, h=p * s, sigma=s, patch_size=5, patch_distance=6,
                                                   fast_mode=True)


def _tv(noisy: np.ndarray, p: float, sigma: float) -> np.ndarray:
    return _skimage_restoration().denoise_tv_chambolle(noisy, weight=p)


@dataclass(frozen=True)
class Denoiser:
    name: str
    apply: Callable[[np.ndarray, float, float], np.ndarray]   # (noisy, parameter, σ) -> estimate
    parameter: str
    grid: tuple[float, ...]


DENOISERS = {d.name: d for d in (
    Denoiser("gaussian", _gaussian, "blur sigma (pixels)", (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)),
    Denoiser("median", _median, "window side (pixels)", (3, 5, 7, 9)),
    Denoiser("nlm", _nlm, "h / noise sigma", (0.4, 0.6, 0.8, 1.0, 1.2)),
    Denoiser("tv", _tv, "weight", (0.02, 0.04, 0.06, 0.08, 0.11, 0.15, 0.2, 0.3)),
)}


def check_baselines(names: Sequence[str]) -> list[str]:
    """The names, or a `ConfigError` naming an unknown one (checked before any training)."""
    unknown = [n for n in names if n not in DENOISERS]
    if unknown:
        raise ConfigError(f"eval.baselines has unknown denoiser(s) {unknown}; the denoisers are "
                          f"{', '.join(DENOISERS)}", fix=f"--set eval.baselines=[{','.join(DENOISERS)}]")
    if any(n in ("nlm", "tv") for n in names):
        _skimage_restoration()
    return list(names)


def denoise(name: str, noisy: np.ndarray, parameter: float, sigma: float) -> np.ndarray:
    """The estimate of denoiser `name` with `parameter`, clipped to [0, 1]."""
    return np.clip(DENOISERS[name].apply(np.asarray(noisy, np.float64), parameter, sigma), 0, 1)


def choose_parameters(pairs: Sequence[tuple[np.ndarray, np.ndarray]], sigma: float,
                      names: Sequence[str]) -> dict[str, dict]:
    """For each denoiser, the grid value with the best mean PSNR over `pairs` of (clean, noisy).

    Returns {name: {"parameter": value, "name": what it is, "psnr": {value: mean PSNR}}}.
    """
    chosen = {}
    for name in names:
        d = DENOISERS[name]
        scores = {p: float(np.mean([psnr(c, denoise(name, n, p, sigma)) for c, n in pairs])) for p in d.grid}
        best = max(scores, key=scores.get)
        chosen[name] = {"parameter": best, "name": d.parameter, "psnr": {str(p): round(s, 3) for p, s in scores.items()}}
    return chosen
