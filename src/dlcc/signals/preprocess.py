"""Getting an ECG record ready for a detector: check it, resample it to 360 Hz, order and
z-score its leads.

`prepare_record` is the single gate every record passes through (training, evaluation and
inference alike), so a bad record fails here with a message naming the record, not later with a
shape error deep in a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from dlcc.errors import DataError

TARGET_FS = 360.0


@dataclass
class Prepared:
    """A record ready for a detector.

    Attributes:
        name: record name.
        signal: `[T, n_leads]` float32, z-scored per lead, at `fs`.
        r_peaks: `[n_beats]` int64 sample indices at `fs` (empty when unannotated).
        fs: sampling rate in Hz (360 unless asked otherwise).
        leads: lead names in the order used.
    """

    name: str
    signal: np.ndarray
    r_peaks: np.ndarray
    fs: float
    leads: list[str]


def zscore(signal: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Per-lead z-scoring over time: `[T, C]` -> `[T, C]` float32 with mean 0 and std 1 per lead."""
    signal = np.asarray(signal, dtype=np.float64)
    mean = signal.mean(axis=0, keepdims=True)
    std = signal.std(axis=0, keepdims=True)
    return ((signal - mean) / np.maximum(std, eps)).astype(np.float32)


def resample_signal(signal: np.ndarray, fs_in: float, fs_out: float = TARGET_FS) -> np.ndarray:
    """Polyphase resampling along time: `[T, C]` at fs_in -> `[round(T*fs_out/fs_in), C]` float32.

    The ratio is approximated by a fraction with denominator <= 1000 (exact for common rates
    such as 250, 500 or 1000 Hz); `resample_poly` applies an anti-aliasing filter.
    """
    if fs_in == fs_out:
        return np.asarray(signal, dtype=np.float32)
    up, down = resample_ratio(fs_in, fs_out)
    out = resample_poly(np.asarray(signal, dtype=np.float64), up, down, axis=0)
    return out.astype(np.float32)


def resample_ratio(fs_in: float, fs_out: float) -> tuple[int, int]:
    """(up, down): fs_out / fs_in as a fraction with denominator <= 1000; a signal of T samples
    resamples to ceil(T * up / down)."""
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    return ratio.numerator, ratio.denominator


def resample_peaks(peaks: np.ndarray, fs_in: float, fs_out: float, length: int) -> np.ndarray:
    """Sample indices at fs_in -> nearest indices at fs_out, kept inside [0, length)."""
    out = np.round(np.asarray(peaks, dtype=np.float64) * (fs_out / fs_in)).astype(np.int64)
    return np.clip(out, 0, length - 1)


def _fill_gaps(name: str, signal: np.ndarray, leads: list[str]) -> np.ndarray:
    """Linearly interpolate short runs of NaN (wfdb's marker for invalid samples)."""
    bad = ~np.isfinite(signal)
    if not bad.any():
        return signal
    signal = signal.copy()
    t = np.arange(len(signal))
    for c in range(signal.shape[1]):
        if bad[:, c].all():
            raise DataError(f"record {name}: lead {leads[c]!r} has no valid samples (all NaN)",
                            fix="drop that lead (--set data.n_leads=1) or exclude the record")
        if bad[:, c].any():
            ok = ~bad[:, c]
            signal[bad[:, c], c] = np.interp(t[bad[:, c]], t[ok], signal[ok, c])
    return signal


def prepare_record(record, n_leads: int = 2, fs: float = TARGET_FS, first_lead: str | None = "MLII",
                   require_peaks: bool = True) -> Prepared:
    """Validate a record (as returned by `dlcc.data.load_mitbih`) and bring it to a common form.

    Args:
        record: has `name`, `signal` `[T, C]`, `fs`, `leads`, `r_peaks` (may be None/empty when
            `require_peaks` is False).
        n_leads: leads the model uses; extra leads are dropped, fewer is an error.
        fs: target sampling rate; other rates are resampled (annotations too).
        first_lead: put this lead first when the record has it (MIT-BIH 114 stores V5 before
            MLII); None keeps the stored order.
        require_peaks: a record without beat annotations is an error (training/evaluation).

    Raises:
        DataError: wrong shape, too few or empty leads, invalid rate, missing or out-of-range
            annotations — each naming the record and the fix.
    """
    name = str(getattr(record, "name", "?"))
    signal = np.asarray(record.signal)
    if signal.ndim == 1:
        signal = signal[:, None]
    if signal.ndim != 2 or signal.shape[0] == 0:
        raise DataError(f"record {name}: expected a signal [samples, leads]; got shape {signal.shape}",
                        fix="pass a 2-D array with time along the first axis")
    leads = list(getattr(record, "leads", None) or [f"lead{i}" for i in range(signal.shape[1])])
    if first_lead and first_lead in leads and leads[0] != first_lead:
        order = [leads.index(first_lead)] + [i for i in range(len(leads)) if leads[i] != first_lead]
        signal, leads = signal[:, order], [leads[i] for i in order]
    if signal.shape[1] < n_leads:
        raise DataError(f"record {name}: has {signal.shape[1]} lead(s) ({', '.join(leads)}) but the "
                        f"model needs {n_leads}",
                        fix=f"exclude record {name}, or train a model on fewer leads (--set data.n_leads={signal.shape[1]})")
    signal, leads = signal[:, :n_leads], leads[:n_leads]
    signal = _fill_gaps(name, signal.astype(np.float64), leads)
    flat = [leads[c] for c in range(n_leads) if np.ptp(signal[:, c]) == 0]
    if flat:
        raise DataError(f"record {name}: lead(s) {', '.join(flat)} are constant (disconnected or missing)",
                        fix="exclude the record, or use --set data.n_leads=1 if only the second lead is missing")
    fs_in = float(getattr(record, "fs", 0) or 0)
    if not np.isfinite(fs_in) or fs_in <= 0:
        raise DataError(f"record {name}: sampling rate {getattr(record, 'fs', None)!r} is not a positive number",
                        fix="set the record's fs (Hz) from its header")
    peaks = getattr(record, "r_peaks", None)
    peaks = np.zeros(0, np.int64) if peaks is None else np.asarray(peaks, dtype=np.int64).ravel()
    if require_peaks and len(peaks) == 0:
        raise DataError(f"record {name}: has no beat annotations (R peaks)",
                        fix=f"exclude record {name} from data.records, or check its .atr file")
    if len(peaks) and (peaks.min() < 0 or peaks.max() >= len(signal)):
        raise DataError(f"record {name}: annotation sample {int(peaks.max() if peaks.max() >= len(signal) else peaks.min())} "
                        f"lies outside the signal (0..{len(signal) - 1})",
                        fix="check that the annotation file belongs to this record")
    resampled = resample_signal(signal, fs_in, fs)
    peaks = np.unique(resample_peaks(peaks, fs_in, fs, len(resampled))) if len(peaks) else peaks
    return Prepared(name=name, signal=zscore(resampled), r_peaks=peaks, fs=fs, leads=leads)
