"""Heartbeats cut from MIT-BIH records around their annotated R peaks, labelled normal or
ventricular: the data of the `ecg-beat-gan` recipe and of the beat judge.

Each lead is cleaned once per record (`clean_lead`): a 0.5 Hz high-pass (2nd-order
Butterworth, run forwards and backwards, so no phase shift) removes baseline wander, then the
lead is z-scored over the whole record, so amplitudes are comparable between patients. A beat is
the window `[r - before, r + after)` around its R peak (default 90 + 166 = 256 samples, 0.71 s
at 360 Hz: the P wave, the QRS complex and the T wave); beats too close to the ends of the
record are left out. Only beats annotated "N" (normal) and "V" (premature ventricular
contraction) are kept; the 16 records hold about 30,000 and 4,700 of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from dlcc.errors import DataError

BEAT_CLASSES = ("N", "V")          # label 0: normal, 1: ventricular
CLASS_NAMES = ("normal", "ventricular")
HIGHPASS_HZ = 0.5


@dataclass
class Beats:
    """Beats of one lead.

    x: float32 `[n, length]` (the cleaned, z-scored lead around each R peak)
    y: int64 `[n]` class (0 normal, 1 ventricular)
    record: `[n]` record name of each beat
    peak: int64 `[n]` sample index of its R peak in the record
    """

    x: np.ndarray
    y: np.ndarray
    record: np.ndarray
    peak: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def select(self, mask: np.ndarray) -> Beats:
        return Beats(self.x[mask], self.y[mask], self.record[mask], self.peak[mask])

    def counts(self) -> dict[str, int]:
        return {name: int((self.y == c).sum()) for c, name in enumerate(CLASS_NAMES)}


def clean_lead(signal: np.ndarray, fs: float, highpass_hz: float = HIGHPASS_HZ) -> np.ndarray:
    """`[T]` lead -> `[T]` float32: high-pass filtered (baseline wander out), then z-scored."""
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1 or len(signal) < 64:
        raise DataError(f"a lead must be a 1-D signal of at least 64 samples, got shape {signal.shape}",
                        fix="pass one lead of a record, e.g. record.signal[:, 0]")
    sos = butter(2, highpass_hz, btype="highpass", fs=fs, output="sos")
    filtered = sosfiltfilt(sos, signal)
    return ((filtered - filtered.mean()) / max(filtered.std(), 1e-8)).astype(np.float32)


def cut_beats(lead: np.ndarray, peaks: np.ndarray, symbols, name: str, before: int = 90, after: int = 166) -> Beats:
    """The N and V beats of one cleaned lead `[T]` (see the module docstring)."""
    symbols = np.asarray(symbols)
    peaks = np.asarray(peaks, dtype=np.int64)
    label = np.full(len(peaks), -1)
    for c, symbol in enumerate(BEAT_CLASSES):
        label[symbols == symbol] = c
    keep = (label >= 0) & (peaks - before >= 0) & (peaks + after <= len(lead))
    peaks, label = peaks[keep], label[keep]
    x = lead[peaks[:, None] + np.arange(-before, after)[None, :]] if len(peaks) else np.zeros((0, before + after))
    return Beats(x.astype(np.float32), label.astype(np.int64), np.full(len(peaks), name), peaks)


def load_beats(records=None, lead: str = "MLII", before: int = 90, after: int = 166, data_dir=None) -> Beats:
    """N and V beats of `lead` from MIT-BIH `records` (default: all 16), in record order."""
    from dlcc.data import load_mitbih

    parts = []
    for rec in load_mitbih(records, data_dir=data_dir, leads=[lead]):
        parts.append(cut_beats(clean_lead(rec.signal[:, 0], rec.fs), rec.r_peaks, rec.symbols, rec.name, before, after))
    return Beats(np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts]),
                 np.concatenate([p.record for p in parts]), np.concatenate([p.peak for p in parts]))


def balanced_indices(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices into `labels` in which every class appears as often as the largest one: the rarer
    classes' indices are repeated (whole copies, then a seeded random remainder)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    most = max(int((labels == c).sum()) for c in classes)
    out = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        reps, rest = divmod(most, len(idx))
        out += [np.tile(idx, reps), rng.choice(idx, rest, replace=False)]
    return np.sort(np.concatenate(out))
