"""WFDB records (PhysioNet's format: a .hea header and .dat signal files), read with `wfdb`.

The user names the header (`100.hea`), the record (`100`) or its signal file (`100.dat`);
any sampling rate and number of leads; samples the header marks invalid come back as NaN.
Reading is local only (never `pn_dir=`, which would download).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcc.data.recordings.base import Recording
from dlcc.errors import DataError

WFDB_ERRORS = (ValueError, OSError, IndexError, EOFError, KeyError, TypeError, AttributeError)


def _wfdb():
    try:
        import wfdb
    except ImportError:
        raise DataError("reading WFDB records needs the wfdb package, which is not installed",
                        fix="pip install 'dlcc[signals]'") from None
    return wfdb


def record_base(path: Path) -> Path:
    """`100.hea`, `100.dat` or `100` -> the record path without extension (its .hea must exist)."""
    base = path.with_suffix("") if path.suffix.lower() in (".hea", ".dat") else path
    if not base.with_suffix(".hea").is_file():
        raise DataError(f"{path}: no WFDB header {base.with_suffix('.hea').name} beside it",
                        fix="name the record's .hea file (its .dat must be in the same folder)")
    return base


class WfdbRecording(Recording):
    @classmethod
    def open(cls, path: Path) -> WfdbRecording:
        wfdb = _wfdb()
        base = record_base(path)
        try:
            header = wfdb.rdheader(str(base))
        except WFDB_ERRORS as exc:
            raise DataError(f"{base.with_suffix('.hea')}: not a readable WFDB header ({exc})",
                            fix="check the file, or convert the recording to CSV or .npy") from None
        n_sig = int(header.n_sig or 0)
        if n_sig < 1 or not header.sig_len:
            raise DataError(f"{base.with_suffix('.hea')}: the header describes no signal samples",
                            fix="point to a record with signals")
        names = list(header.sig_name or [f"lead{i}" for i in range(n_sig)])
        rates = [float(header.fs)] * n_sig if header.fs else [None] * n_sig
        rec = cls(path, base.name, names, rates, [int(header.sig_len)] * n_sig, list(header.units or [""] * n_sig))
        rec.base = base
        return rec

    def _read(self, start: int, stop: int, channels: list[int]) -> np.ndarray:
        wfdb = _wfdb()
        try:
            record = wfdb.rdrecord(str(self.base), sampfrom=start, sampto=stop, channels=list(channels))
        except WFDB_ERRORS as exc:
            raise DataError(f"{self.base}: cannot read samples {start}-{stop} of the WFDB record ({exc})",
                            fix="check that its .dat file is complete and beside the .hea") from None
        return record.p_signal


def read_wfdb_beats(base: Path, extension: str = "atr") -> np.ndarray:
    """Beat annotations (symbols N, V, A, ... not rhythm or noise marks) of a WFDB annotation
    file `base.<extension>` -> sample indices `[n]` int64 at the record's rate."""
    from dlcc.data.ecg import BEAT_SYMBOLS

    wfdb = _wfdb()
    try:
        ann = wfdb.rdann(str(base), extension)
    except WFDB_ERRORS as exc:
        raise DataError(f"{base}.{extension}: not a readable WFDB annotation file ({exc})",
                        fix="point --annotations to the record's .atr file or to a CSV of beat times") from None
    is_beat = np.array([s in BEAT_SYMBOLS for s in ann.symbol], dtype=bool)
    return np.unique(np.asarray(ann.sample, dtype=np.int64)[is_beat])
