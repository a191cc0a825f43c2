"""Agreement between a predicted and a recorded waveform (e.g. a translated ECG lead and the
lead recorded at the same time): mean absolute error, root mean square error and the mean
per-segment Pearson correlation, which ignores offset and scale and so reads as "same shape"."""

from __future__ import annotations

import numpy as np

from dlcc.errors import InputError


def waveform_errors(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """{"mae", "rmse", "corr"} over segments `[n, L]` (or `[n, 1, L]`); corr is the mean over
    segments of Pearson's r (a constant segment counts as r = 0)."""
    p = np.asarray(predicted, dtype=np.float64).reshape(len(predicted), -1)
    t = np.asarray(truth, dtype=np.float64).reshape(len(truth), -1)
    if p.shape != t.shape or not p.size:
        raise InputError(f"predicted {p.shape} and recorded {t.shape} segments differ or are empty",
                         fix="compare segments of one shape")
    pc, tc = p - p.mean(axis=1, keepdims=True), t - t.mean(axis=1, keepdims=True)
    denom = np.sqrt((pc ** 2).sum(axis=1) * (tc ** 2).sum(axis=1))
    r = np.where(denom > 0, (pc * tc).sum(axis=1) / np.where(denom > 0, denom, 1), 0.0)
    return {"mae": float(np.abs(p - t).mean()), "rmse": float(np.sqrt(((p - t) ** 2).mean())), "corr": float(r.mean())}
