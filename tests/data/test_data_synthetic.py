"""Synthetic generators: shapes with masks, ECG with known R-peaks."""

from __future__ import annotations

import numpy as np
import pytest

from dlcc.data import make_shapes, make_synthetic_ecg
from dlcc.errors import ConfigError


def test_shapes_shapes_dtypes_and_determinism():
    images, masks = make_shapes(16, size=32, seed=3)
    assert images.shape == (16, 1, 32, 32) and images.dtype == np.float32
    assert masks.shape == (16, 32, 32) and masks.dtype == np.uint8
    assert set(np.unique(masks)) <= {0, 1}
    assert 0.0 <= images.min() and images.max() <= 1.0
    again = make_shapes(16, size=32, seed=3)
    assert np.array_equal(images, again[0]) and np.array_equal(masks, again[1])
    assert not np.array_equal(masks, make_shapes(16, size=32, seed=4)[1])


def test_shapes_masks_mark_the_bright_pixels():
    images, masks = make_shapes(32, size=64, seed=0, noise=0.0)
    assert masks.reshape(32, -1).sum(1).min() > 0  # never an empty mask
    inside = images[:, 0][masks == 1]
    outside = images[:, 0][masks == 0]
    # without noise the classes are separable by a threshold at 0.5
    assert inside.min() >= 0.6 - 1e-6 and outside.max() <= 0.4 + 1e-6


def test_shapes_bad_arguments():
    with pytest.raises(ConfigError, match="size >= 8"):
        make_shapes(4, size=4)


def test_ecg_shapes_and_r_peaks_are_true_maxima():
    fs = 360
    signal, peaks = make_synthetic_ecg(20, fs=fs, n_leads=3, seed=1, noise=0.0)
    assert signal.shape == (20 * fs, 3) and signal.dtype == np.float32
    assert peaks.dtype == np.int64 and np.all(np.diff(peaks) > 0.3 * fs)
    assert 0 <= peaks.min() and peaks.max() < len(signal)
    # 55-95 beats/min over 20 s
    assert 15 <= len(peaks) <= 35
    for p in peaks:
        lo, hi = max(0, p - 40), min(len(signal), p + 41)
        assert lo + np.argmax(signal[lo:hi, 0]) == p


def test_ecg_noise_keeps_peaks_close_and_is_deterministic():
    signal, peaks = make_synthetic_ecg(10, seed=2)
    again, peaks2 = make_synthetic_ecg(10, seed=2)
    assert np.array_equal(signal, again) and np.array_equal(peaks, peaks2)
    for p in peaks[(peaks > 20) & (peaks < len(signal) - 20)]:
        assert abs(p - 20 + np.argmax(signal[p - 20:p + 21, 0]) - p) <= 2


def test_ecg_bad_arguments():
    with pytest.raises(ConfigError, match="n_seconds > 0"):
        make_synthetic_ecg(0)
