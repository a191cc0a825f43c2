"""Synthetic multi-lead ECG with known R-peak positions (for trigger/R-peak detection).

Each beat is a sum of five Gaussian waves (P, Q, R, S, T) placed around its R time; beat-to-beat
(RR) intervals vary around a random heart rate. Leads differ by per-wave gains. Baseline wander
and white noise are added. The R wave of lead 0 peaks exactly on the returned sample index.
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import ConfigError

# wave: (offset from R in s, amplitude in mV, width (std) in s); T's offset scales with RR
_WAVES = {"P": (-0.20, 0.15, 0.025), "Q": (-0.035, -0.12, 0.008), "R": (0.0, 1.0, 0.010),
          "S": (0.035, -0.25, 0.010), "T": (0.26, 0.30, 0.040)}


def make_synthetic_ecg(n_seconds: float, fs: int = 360, n_leads: int = 2, seed: int = 0,
                       noise: float = 0.02, heart_rate: tuple[float, float] = (55.0, 95.0),
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Generate `n_seconds` of ECG.

    Returns:
        signal  float32 [T, n_leads] in mV, T = round(n_seconds * fs),
        r_peaks int64 [n_beats], sorted sample indices of every R peak inside the signal.
    Heart rate is drawn from `heart_rate` (beats/min); same arguments give the same arrays.
    """
    if n_seconds <= 0 or fs < 50 or n_leads < 1 or noise < 0 or not 20 <= heart_rate[0] <= heart_rate[1]:
        raise ConfigError(f"make_synthetic_ecg needs n_seconds > 0, fs >= 50, n_leads >= 1, noise >= 0, "
                          f"20 <= heart_rate[0] <= heart_rate[1]; got n_seconds={n_seconds}, fs={fs}, "
                          f"n_leads={n_leads}, noise={noise}, heart_rate={heart_rate}",
                          fix="e.g. make_synthetic_ecg(30, fs=360, n_leads=2)")
    rng = np.random.default_rng(seed)
    total = int(round(n_seconds * fs))
    mean_rr = 60.0 / rng.uniform(*heart_rate)
    # R times in samples (integers, so lead 0's R wave peaks exactly on a sample)
    beats, t = [], rng.uniform(0.1, 1.0) * mean_rr * fs
    while t < total + fs:
        beats.append(int(round(t)))
        rr = np.clip(mean_rr * (1 + 0.04 * rng.standard_normal()
                                + 0.03 * np.sin(2 * np.pi * 0.25 * t / fs)), 0.33, 2.0)
        t += rr * fs
    gains = np.ones((n_leads, len(_WAVES)))
    if n_leads > 1:  # other leads: different wave sizes, R still positive
        gains[1:] = rng.uniform(0.3, 1.2, (n_leads - 1, len(_WAVES)))
    signal = np.zeros((total, n_leads), np.float64)
    span = int(0.6 * fs)
    for r in beats:
        lo, hi = max(0, r - span), min(total, r + span)
        if lo >= hi:
            continue
        dt = (np.arange(lo, hi) - r) / fs
        for w, (name, (offset, amp, width)) in enumerate(_WAVES.items()):
            if name == "T":
                offset *= np.sqrt(mean_rr)  # QT lengthens at slower rates
            wave = amp * np.exp(-0.5 * ((dt - offset) / width) ** 2)
            signal[lo:hi] += wave[:, None] * gains[:, w]
    time = np.arange(total) / fs
    for lead in range(n_leads):
        f, phase = rng.uniform(0.15, 0.35), rng.uniform(0, 2 * np.pi)
        signal[:, lead] += 0.08 * np.sin(2 * np.pi * f * time + phase)
    signal += rng.normal(0.0, noise, signal.shape)
    r_peaks = np.array([r for r in beats if 0 <= r < total], dtype=np.int64)
    return signal.astype(np.float32), r_peaks
