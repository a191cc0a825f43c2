"""The Pan–Tompkins QRS detector (Pan & Tompkins, IEEE TBME 32(3), 1985), written from the paper.

Stages, on one lead:
1. band-pass 5–15 Hz (where QRS energy is; removes baseline wander, mains hum, most T waves),
   applied forwards and backwards so peaks are not delayed;
2. five-point derivative (QRS slopes are steep), 3. squaring (all positive, big slopes win),
4. moving-window integration over 150 ms (one hump per QRS complex);
5. adaptive thresholds on the integrated signal: running estimates of the signal peak level
   SPKI and the noise peak level NPKI, threshold = NPKI + 0.25 (SPKI - NPKI);
6. search-back: when no beat is found for 166 % of the mean RR interval, the largest
   candidate above half the threshold in the gap is taken as the missed beat;
7. T-wave check: a candidate within 360 ms of the last beat whose steepest slope is under half
   of that beat's is a T wave, not a beat;
8. each beat is placed on the largest band-passed deflection within ±100 ms of its hump.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy.signal import butter, filtfilt, find_peaks

from dlcc.errors import InputError


def _stages(ecg: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Band-passed signal and moving-window integral, both `[T]` float64."""
    b, a = butter(2, [5.0 / (fs / 2), 15.0 / (fs / 2)], btype="band")
    bp = filtfilt(b, a, ecg)
    deriv = np.convolve(bp, np.array([1.0, 2.0, 0.0, -2.0, -1.0]) * fs / 8.0, mode="same")
    width = max(1, int(round(0.150 * fs)))
    mwi = np.convolve(deriv ** 2, np.ones(width) / width, mode="same")
    return bp, mwi


def pan_tompkins(ecg: np.ndarray, fs: float = 360.0) -> np.ndarray:
    """Detect QRS complexes in one ECG lead.

    Args:
        ecg: `[T]` float (any units; at least 2 s long).
        fs: sampling rate in Hz.

    Returns: R-peak sample indices `[n]` int64, ascending.
    """
    ecg = np.asarray(ecg, dtype=np.float64).ravel()
    if len(ecg) < 2 * fs or not np.isfinite(ecg).all():
        raise InputError(f"Pan-Tompkins needs at least 2 s of finite samples ({int(2 * fs)} at {fs:g} Hz); "
                         f"got {len(ecg)} samples" + ("" if np.isfinite(ecg).all() else " with NaN/inf"),
                         fix="pass a longer, gap-free lead")
    bp, mwi = _stages(ecg, fs)
    refractory = int(round(0.200 * fs))
    candidates, _ = find_peaks(mwi, distance=refractory)
    slope_win = max(1, int(round(0.075 * fs)))

    def slope(i: int) -> float:
        return float(np.abs(np.diff(mwi[max(0, i - slope_win):i + 1])).max(initial=0.0))

    learn = mwi[: int(2 * fs)]                      # 2-s learning phase
    spki, npki = learn.max() / 3.0, learn.mean() / 2.0
    beats: list[int] = []
    rr = deque(maxlen=8)
    noise_since_beat: list[int] = []                # candidates rejected since the last beat
    last_slope = 0.0

    def accept(i: int, weight: float) -> None:
        nonlocal spki, last_slope
        if beats:
            rr.append(i - beats[-1])
        beats.append(i)
        spki = weight * mwi[i] + (1 - weight) * spki
        last_slope = slope(i)
        noise_since_beat.clear()

    for i in candidates:
        threshold = npki + 0.25 * (spki - npki)
        if beats and len(rr) >= 2 and i - beats[-1] > 1.66 * np.mean(rr):
            gap = [j for j in noise_since_beat
                   if j - beats[-1] > refractory and i - j > refractory and mwi[j] >= 0.5 * threshold]
            if gap:
                accept(max(gap, key=lambda j: mwi[j]), weight=0.25)
                threshold = npki + 0.25 * (spki - npki)
        if mwi[i] >= threshold:
            t_wave = bool(beats) and i - beats[-1] < 0.36 * fs and slope(i) < 0.5 * last_slope
            if not t_wave:
                accept(i, weight=0.125)
                continue
        npki = 0.125 * mwi[i] + 0.875 * npki
        noise_since_beat.append(i)

    half = int(round(0.100 * fs))
    out = [max(0, b - half) + int(np.argmax(np.abs(bp[max(0, b - half):b + half + 1]))) for b in beats]
    return np.unique(np.asarray(out, dtype=np.int64))
