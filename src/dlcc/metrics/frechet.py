"""The Fréchet distance between two sets of feature vectors: the distance between the two
Gaussians with the sets' means and covariances (Dowson & Landau 1982), which FID computes on
Inception features (Heusel et al. 2017) and dlcc on its own judges' features.

    d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)

Tr((Σ₁Σ₂)^½) is computed as Σᵢ √λᵢ of the symmetric matrix Σ₁^½ Σ₂ Σ₁^½, which has the same
eigenvalues as Σ₁Σ₂ and, being symmetric, is diagonalised stably (`eigh`), with no complex
parts to drop as scipy's general `sqrtm` has. Rounding can leave tiny negative eigenvalues;
they are clipped to 0.

The estimate is biased upwards for finite samples (by about Tr(Σ)·d/n for n samples of
dimension d), so distances are only comparable at the same sample sizes: dlcc reports every
distance with the same number of samples on each side and the real-vs-real distance beside it.
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import InputError


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean `[d]` and covariance `[d, d]` (float64, n − 1 normalisation) of `[n, d]` features."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise InputError(f"features must be [n, d] with n >= 2, got shape {f.shape}",
                         fix="pass at least two feature vectors, one per row")
    if not np.isfinite(f).all():
        raise InputError("features contain NaN or inf", fix="check the samples fed to the feature network")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """d² between N(mu1, sigma1) and N(mu2, sigma2) (the module docstring's formula)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise InputError(f"means {mu1.shape}, {mu2.shape} and covariances {sigma1.shape}, {sigma2.shape} "
                         "do not describe two Gaussians of one dimension", fix="compare features of one network")
    root1 = _sqrt_psd(sigma1)
    cross = np.linalg.eigvalsh(root1 @ sigma2 @ root1)
    trace_sqrt = np.sqrt(np.clip(cross, 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt, 0.0))


def frechet_distance_features(a: np.ndarray, b: np.ndarray) -> float:
    """d² between the Gaussians fitted to feature sets `a` `[n, d]` and `b` `[m, d]`."""
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))
