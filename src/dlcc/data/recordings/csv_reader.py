"""CSV (or TSV, semicolon- or space-separated) recordings, one row per sample.

- A header row is optional (it is recognised by a field that is not a number). Its names become
  the lead names; without one, leads are lead0, lead1, ...
- The sampling rate comes from, in this order: a time column (named time, t, seconds, time_s,
  timestamp, or time_ms / ms for milliseconds; without a header, a first column that rises in
  even steps), a column named fs (its first value), or the caller (`--fs`). A column named
  sample or index is a row number, not a lead.
- Empty fields and NaN are invalid samples (gaps). Timestamps must lie on an even grid (each
  within half a sample of it): a jump in time is a gap the file does not mark, and is refused.

The file is parsed once, in chunks (pandas), into a temporary float32 file that is then read in
pieces, so a 10-hour CSV needs no more memory than a short one.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np

from dlcc.data.recordings.base import Recording, read_raw
from dlcc.errors import DataError

TIME_NAMES = {"time": 1.0, "t": 1.0, "seconds": 1.0, "second": 1.0, "sec": 1.0, "s": 1.0, "time_s": 1.0,
              "time (s)": 1.0, "time[s]": 1.0, "timestamp": 1.0, "elapsed time": 1.0, "elapsed_time": 1.0,
              "time_ms": 1e-3, "ms": 1e-3, "time (ms)": 1e-3, "time[ms]": 1e-3}
INDEX_NAMES = {"sample", "samples", "index", "idx", "sample #", "sample_index"}
FS_NAMES = {"fs", "sampling_rate", "sample_rate", "sampling rate", "hz", "fs_hz"}
CHUNK_ROWS = 1 << 18


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return text.strip() == ""


def _sniff(path: Path) -> tuple[str | None, bool, list[list[str]]]:
    """(delimiter or None for whitespace, has a header, the first rows split)."""
    try:
        with open(path, encoding="utf-8-sig", errors="strict") as fh:
            lines = [line for _, line in zip(range(50), fh) if line.strip()]
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (CSV expected)",
                        fix="point to a CSV, .npy, EDF or WFDB file") from None
    if not lines:
        raise DataError(f"{path}: the CSV file is empty", fix="point to a recording with samples")
    delimiter = None
    for candidate in (",", ";", "\t"):
        if all(candidate in line for line in lines[:10]):
            delimiter = candidate
            break
    rows = list(csv.reader(lines, delimiter=delimiter)) if delimiter else [line.split() for line in lines]
    header = not all(_is_number(field) for field in rows[0])
    return delimiter, header, rows


class CsvRecording(Recording):
    @classmethod
    def open(cls, path: Path) -> CsvRecording:
        delimiter, header, rows = _sniff(path)
        names = [f.strip() for f in rows[0]] if header else [f"lead{i}" for i in range(len(rows[0]))]
        body = rows[1:] if header else rows
        if not body:
            raise DataError(f"{path}: the CSV has a header but no samples", fix="point to a recording with samples")
        lower = [n.lower() for n in names]
        time_col = next((i for i, n in enumerate(lower) if n in TIME_NAMES), None)
        scale = TIME_NAMES[lower[time_col]] if time_col is not None else 1.0
        if time_col is None and not header and len(names) > 1 and _looks_like_time([r[0] for r in body]):
            time_col = 0
        skip = {i for i, n in enumerate(lower) if n in INDEX_NAMES | FS_NAMES} | ({time_col} - {None})
        fs_col = next((i for i, n in enumerate(lower) if n in FS_NAMES), None)
        leads = [i for i in range(len(names)) if i not in skip]
        if not leads:
            raise DataError(f"{path}: no signal columns (only {', '.join(names)})",
                            fix="add a column per lead, e.g. time,MLII,V5")
        rec = cls(path, path.stem, [names[i] if header else f"lead{j}" for j, i in enumerate(leads)],
                  [None] * len(leads), [0] * len(leads), [""] * len(leads))
        rec._parse(delimiter, header, len(names), leads, time_col, scale, fs_col)
        return rec

    def _parse(self, delimiter, header, n_cols, leads, time_col, scale, fs_col) -> None:
        try:
            import pandas as pd
        except ImportError:
            raise DataError("reading CSV recordings needs pandas, which is not installed",
                            fix="pip install 'dlcc[signals]'") from None
        self._tmp = tempfile.TemporaryDirectory(prefix="dlcc-csv-")
        data_file, time_file = Path(self._tmp.name) / "signal.f32", Path(self._tmp.name) / "time.f64"
        n, fs_value = 0, None
        try:
            reader = pd.read_csv(self.path, sep=delimiter if delimiter else r"\s+", header=0 if header else None,
                                 chunksize=CHUNK_ROWS, dtype=np.float64, engine="c", encoding="utf-8-sig",
                                 skip_blank_lines=True)
            with open(data_file, "wb") as data, open(time_file, "wb") as times:
                for chunk in reader:
                    values = chunk.to_numpy(dtype=np.float64)
                    if values.shape[1] != n_cols:
                        raise DataError(f"{self.path}: rows near row {n + 1} have {values.shape[1]} fields, "
                                        f"not {n_cols}", fix="give every row the same columns")
                    data.write(values[:, leads].astype(np.float32).tobytes())
                    if time_col is not None:
                        times.write((values[:, time_col] * scale).tobytes())
                    if fs_col is not None and fs_value is None:
                        fs_value = float(values[0, fs_col])
                    n += len(values)
        except (ValueError, pd.errors.ParserError) as exc:
            self.close()
            raise DataError(f"{self.path}: cannot read the CSV ({str(exc).splitlines()[0][:160]})",
                            fix="every field after the header must be a number (empty or NaN marks a gap)") from None
        if n == 0:
            self.close()
            raise DataError(f"{self.path}: the CSV has no samples", fix="point to a recording with samples")
        self._file, self._layout = data_file, (0, np.dtype(np.float32), n, len(leads), False)
        self.n_samples = [n] * len(leads)
        if time_col is not None:
            self.rates = [_rate_from_times(self.path, time_file, n)] * len(leads)
        elif fs_value is not None:
            if not np.isfinite(fs_value) or fs_value <= 0:
                raise DataError(f"{self.path}: the fs column says {fs_value}, not a rate in Hz",
                                fix="fix the fs column")
            self.rates = [fs_value] * len(leads)

    def _read(self, start: int, stop: int, channels: list[int]) -> np.ndarray:
        return read_raw(self._file, self._layout, start, stop, channels)

    def close(self) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
            self._tmp = None


def _looks_like_time(column: list[str]) -> bool:
    """A first column that rises in even steps (a headerless time axis)."""
    try:
        t = np.array([float(v) for v in column])
    except ValueError:
        return False
    if len(t) < 3 or not np.all(np.isfinite(t)):
        return False
    d = np.diff(t)
    return bool(np.all(d > 0) and (d.max() - d.min()) <= 0.5 * np.median(d) + 1e-12)


def _rate_from_times(path: Path, time_file: Path, n: int, block: int = CHUNK_ROWS) -> float:
    """Sampling rate from a time column (float64 seconds in `time_file`); every timestamp must sit
    within half a sample of an even grid from the first to the last."""
    layout = (0, np.dtype(np.float64), n, 1, False)
    first, last = read_raw(time_file, layout, 0, 1, [0])[0, 0], read_raw(time_file, layout, n - 1, n, [0])[0, 0]
    if n < 2 or not np.isfinite(first) or not np.isfinite(last) or last <= first:
        raise DataError(f"{path}: the time column does not rise from the first row to the last",
                        fix="give times in seconds, rising, or drop the column and pass --fs")
    step = (last - first) / (n - 1)
    for i in range(0, n, block):
        part = read_raw(time_file, layout, i, min(n, i + block), [0])[:, 0]
        off = np.abs(part - (first + step * np.arange(i, i + len(part))))
        bad = np.flatnonzero(~(off <= 0.5 * step))
        if len(bad):
            row = i + int(bad[0])
            raise DataError(f"{path}: timestamps are not evenly spaced (row {row + 1}: t={part[bad[0]]:g} s, "
                            f"expected {first + step * row:g} s at {1 / step:g} Hz)",
                            fix="resample the recording to a constant rate; mark missing samples with empty fields")
    return float(1.0 / step)
