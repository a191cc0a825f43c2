"""EDF and EDF+ (European Data Format, also BDF) recordings, read with `pyedflib`.

Each signal has its own label and sampling rate; the leads given to a model must share one
(`Recording.select` refuses a mix, naming the rates). Signals come back in physical units.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcc.data.recordings.base import Recording
from dlcc.errors import DataError


def _pyedflib():
    try:
        import pyedflib
    except ImportError:
        raise DataError("reading EDF files needs the pyedflib package, which is not installed",
                        fix="pip install 'dlcc[signals]'") from None
    return pyedflib


class EdfRecording(Recording):
    @classmethod
    def open(cls, path: Path) -> EdfRecording:
        pyedflib = _pyedflib()
        try:
            reader = pyedflib.EdfReader(str(path))
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable EDF/BDF file ({str(exc).strip()[:120]})",
                            fix="check the file (an EDF viewer should open it), or convert it to CSV") from None
        n = reader.signals_in_file
        if n < 1:
            reader.close()
            raise DataError(f"{path}: the EDF file holds no signals", fix="point to a recording with signals")
        labels = [reader.getLabel(i).strip() or f"signal{i}" for i in range(n)]
        rates = [float(r) for r in reader.getSampleFrequencies()]
        units = [reader.getPhysicalDimension(i).strip() for i in range(n)]
        rec = cls(path, path.stem, labels, rates, [int(s) for s in reader.getNSamples()], units)
        rec._reader = reader
        return rec

    def _read(self, start: int, stop: int, channels: list[int]) -> np.ndarray:
        return np.stack([self._reader.readSignal(c, start, stop - start) for c in channels], axis=1)

    def close(self) -> None:
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.close()
            self._reader = None
