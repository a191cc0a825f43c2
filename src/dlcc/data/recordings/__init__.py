"""Reading the user's own recordings - WFDB, CSV, NumPy, EDF - in pieces, and their reference
beat annotations.

    rec = open_recording("holter/r01.edf")               # or .hea / .csv / .npy (+ fs=...)
    rec.leads, rec.rates, rec.length                     # names, Hz per lead, samples
    piece = rec.select(["ECG1"]).read(0, 3600)           # [3600, 1] float64, NaN = invalid
    beats = read_reference("r01_beats.csv", fs=rec.fs)   # sample indices of annotated beats

Every problem (unknown format, unreadable file, a rate the file does not give) is a `DataError`
naming the file and the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcc.data.recordings.base import Recording
from dlcc.errors import DataError

SUFFIXES = {".hea": "wfdb", ".dat": "wfdb", ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".npy": "npy",
            ".edf": "edf", ".bdf": "edf", ".rec": "edf"}

__all__ = ["Recording", "SUFFIXES", "is_recording", "open_recording", "read_reference"]


def is_recording(path: Path) -> bool:
    """A file `open_recording` would try (by suffix; .dat only with its .hea, which names it)."""
    return path.suffix.lower() in SUFFIXES and path.suffix.lower() != ".dat"


def open_recording(path: str | Path, fs: float | None = None) -> Recording:
    """Open `path` by its suffix. `fs` (Hz) is the rate of files that carry none (CSV without a
    time column, .npy); a file that states a different rate is refused."""
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None and path.with_suffix(".hea").is_file() and not path.is_dir():
        kind = "wfdb"                                   # a WFDB record named without extension
    if kind is None:
        raise DataError(f"{path}: unknown recording format '{path.suffix or '(no extension)'}'",
                        fix="give a WFDB header (.hea), CSV, NumPy .npy or EDF file")
    if kind != "wfdb" and not path.is_file():
        raise DataError(f"{path}: no such file", fix="check the path")
    if kind == "wfdb":
        from dlcc.data.recordings.wfdb_reader import WfdbRecording as reader
    elif kind == "csv":
        from dlcc.data.recordings.csv_reader import CsvRecording as reader
    elif kind == "npy":
        from dlcc.data.recordings.npy_reader import NpyRecording as reader
    else:
        from dlcc.data.recordings.edf_reader import EdfRecording as reader
    rec = reader.open(path)
    return _with_rate(rec, fs)


def _with_rate(rec: Recording, fs: float | None) -> Recording:
    if fs is not None and (not np.isfinite(fs) or fs <= 0):
        raise DataError(f"--fs {fs}: a sampling rate must be a positive number of Hz", fix="e.g. --fs 360")
    known = [r for r in rec.rates if r]
    if known and fs is not None and any(abs(r - fs) > 0.01 * fs for r in known):
        raise DataError(f"{rec.path}: the file says {', '.join(f'{r:g}' for r in sorted(set(known)))} Hz but --fs "
                        f"says {fs:g} Hz", fix="drop --fs (the file's rate is used) or fix the file")
    if not known:
        if fs is None:
            raise DataError(f"{rec.path}: the sampling rate is unknown (a {rec.path.suffix} file without "
                            "a time or fs column does not say)", fix="pass it, e.g. --fs 360")
        rec.with_rate(fs)
    if rec.length < 1:
        raise DataError(f"{rec.path}: the recording has no samples", fix="point to a recording with samples")
    return rec


def read_reference(path: str | Path, fs: float) -> np.ndarray:
    """Reference beats -> sample indices `[n]` int64 at `fs`, ascending, unique.

    `path`: a WFDB annotation file (`100.atr`, any annotator extension; beat symbols only), or
    a CSV with a column named sample (indices at `fs`) or time / time_s / seconds (seconds) -
    the trigger CSV `dlcc predict` writes qualifies - or one headerless column (whole numbers:
    samples; otherwise seconds).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such annotation file", fix="check the --annotations path")
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return _reference_csv(path, fs)
    from dlcc.data.recordings.wfdb_reader import read_wfdb_beats

    return read_wfdb_beats(path.with_suffix(""), path.suffix.lstrip("."))


def _reference_csv(path: Path, fs: float) -> np.ndarray:
    from dlcc.data.recordings.csv_reader import INDEX_NAMES, TIME_NAMES, _sniff

    delimiter, header, rows = _sniff(path)
    try:
        import pandas as pd

        table = pd.read_csv(path, sep=delimiter or r"\s+", header=0 if header else None, encoding="utf-8-sig")
    except (ValueError, ImportError) as exc:
        raise DataError(f"{path}: cannot read the annotation CSV ({str(exc).splitlines()[0][:120]})",
                        fix="one beat per row: a column 'sample' or 'time_s'") from None
    columns = {str(c).strip().lower(): c for c in table.columns}
    if header:
        sample = next((columns[n] for n in columns if n in INDEX_NAMES), None)
        time = next((columns[n] for n in columns if n in TIME_NAMES), None)
        if sample is None and time is None:
            raise DataError(f"{path}: no column named sample or time_s among {', '.join(map(str, table.columns))}",
                            fix="name the beat column 'sample' (indices) or 'time_s' (seconds)")
    else:
        sample, time = (table.columns[0], None)
    values = pd.to_numeric(table[sample if sample is not None else time], errors="coerce").to_numpy(np.float64)
    if not np.isfinite(values).all():
        raise DataError(f"{path}: the beat column has empty or non-numeric entries",
                        fix="one number per row")
    if sample is not None and not (header or np.all(values == np.round(values))):
        sample, time = None, sample                   # headerless fractions are seconds
    if sample is None:
        scale = TIME_NAMES.get(str(time).strip().lower(), 1.0) if header else 1.0
        values = values * scale * fs
    return np.unique(np.round(values).astype(np.int64))
