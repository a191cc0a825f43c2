"""The ECG page's computation: an uploaded recording -> R peaks, heart rate and a plot.

    paths = save_uploads(files, folder)           # dlcc.app.uploads: 100.hea + 100.dat, x.csv, x.npy
    record = recording_of(paths)                  # the one recording among them
    result = detect_peaks(model, record, fs=None)
    result.peaks_s, result.rr_s, result.mean_hr_bpm, result.figure(start_s=0)

Detection is `dlcc predict`'s (`dlcc.predict.ecg.detect_recording`): the model's leads, the
recording prepared as the training data were (gaps filled, resampled, z-scored), overlapping
windows and the run's threshold and trigger rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dlcc.errors import DataError

PLOT_SECONDS = 10.0
KEPT_SECONDS = 600.0        # the prepared signal kept for plotting (the file is closed after detection)
READABLE = (".hea", ".csv", ".npy", ".edf")      # a .dat is read through its .hea


def recording_of(paths: list[Path]) -> Path:
    """The one recording among the uploaded files (a WFDB pair counts once, by its .hea)."""
    heads = [p for p in paths if p.suffix.lower() in READABLE]
    dats = [p for p in paths if p.suffix.lower() == ".dat"]
    if not heads and dats:
        raise DataError(f"{dats[0].name} is WFDB signal data without its header",
                        fix=f"upload {dats[0].stem}.hea together with {dats[0].name}")
    if not heads:
        raise DataError("no recording among the uploaded files", fix="upload a .hea + .dat pair, a .csv or a .npy")
    if len(heads) > 1:
        raise DataError(f"{len(heads)} recordings uploaded ({', '.join(p.name for p in heads)}); "
                        "this page takes one at a time",
                        fix="upload one recording (a WFDB record is its .hea and .dat together)")
    return heads[0]


@dataclass
class EcgResult:
    name: str
    leads: list[str]
    fs: float                                   # the model's rate (the plot's samples)
    duration_s: float
    peaks_s: np.ndarray                         # [n] R-peak times in seconds
    signal: np.ndarray = field(repr=False)      # [min(T, KEPT_SECONDS * fs), leads] prepared, z-scored

    @property
    def rr_s(self) -> np.ndarray:
        return np.diff(self.peaks_s)

    @property
    def mean_hr_bpm(self) -> float:
        """60 / mean RR interval (0 with fewer than two beats)."""
        return float(60.0 / self.rr_s.mean()) if len(self.peaks_s) > 1 else 0.0

    def table(self) -> list[dict]:
        """One row per beat: time_s, rr_s, hr_bpm (None for the first beat)."""
        rows, previous = [], None
        for t in self.peaks_s.tolist():
            rr = None if previous is None else round(t - previous, 4)
            rows.append({"time_s": round(t, 4), "rr_s": rr, "hr_bpm": None if rr is None else round(60.0 / rr, 1)})
            previous = t
        return rows

    def figure(self, start_s: float = 0.0, seconds: float = PLOT_SECONDS):
        """A matplotlib Figure: `seconds` of the prepared leads from `start_s` (within the first
        `KEPT_SECONDS`), R peaks marked."""
        from matplotlib.figure import Figure

        kept = len(self.signal) / self.fs
        start = int(max(0.0, min(start_s, max(0.0, kept - seconds))) * self.fs)
        stop = min(len(self.signal), start + int(seconds * self.fs))
        seg = self.signal[start:stop]
        t = (start + np.arange(len(seg))) / self.fs
        fig = Figure(figsize=(10, 1.6 + 1.4 * len(self.leads)))
        axes = fig.subplots(len(self.leads), 1, squeeze=False, sharex=True)[:, 0]
        inside = (self.peaks_s * self.fs >= start) & (self.peaks_s * self.fs < stop)
        idx = np.round(self.peaks_s[inside] * self.fs).astype(np.int64) - start
        idx = idx[(idx >= 0) & (idx < len(seg))]
        for i, (ax, lead) in enumerate(zip(axes, self.leads)):
            ax.plot(t, seg[:, i], lw=0.8, color="#1f4e79")
            ax.plot(t[idx], seg[idx, i], "v", color="#c0392b", ms=6, label="R peak")
            ax.set_ylabel(f"{lead}\n(z-scored)", fontsize=8)
        axes[0].set_title(f"{self.name}: {int(inside.sum())} R peaks in {len(seg) / self.fs:.0f} s, "
                          f"mean heart rate {self.mean_hr_bpm:.0f} bpm", fontsize=10)
        axes[0].legend(loc="upper right", fontsize=8)
        axes[-1].set_xlabel("time (s)")
        fig.tight_layout()
        return fig


def detect_peaks(model, path: Path, fs: float | None = None, leads: list[str] | None = None) -> EcgResult:
    """R peaks of the recording at `path` (`fs`: the rate of a file that states none)."""
    from dlcc.data.recordings import open_recording
    from dlcc.predict.ecg import EcgOptions, detect_recording

    rec = open_recording(path, fs)
    try:
        found = detect_recording(model, rec, EcgOptions(fs=fs, leads=leads or None, plot=False))
        stream, chosen = found["stream"], list(found["leads"])
        signal = stream.segment(0, min(int(stream.length), int(KEPT_SECONDS * stream.fs)))[:, :len(chosen)]
    finally:
        rec.close()
    peaks = np.asarray(found["triggers"], np.float64) / stream.fs
    return EcgResult(rec.name, chosen, float(stream.fs), stream.length / stream.fs, peaks, np.asarray(signal))
