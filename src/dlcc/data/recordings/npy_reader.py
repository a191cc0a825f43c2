"""NumPy `.npy` recordings: `[samples]` (one lead), `[samples, leads]`, or `[leads, samples]`
(recognised when the first axis has at most 16 entries and the second more). The file carries
no sampling rate, so the user gives one (`--fs`).

Pieces are read with plain file reads at computed offsets, not through a memory map: pages of
a mapped file count towards the process's resident memory for as long as they stay mapped,
which for a 24-hour recording would look like (and on a tight machine be) unbounded growth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcc.data.recordings.base import Recording, read_raw
from dlcc.errors import DataError

MAX_LEADS = 16


class NpyRecording(Recording):
    @classmethod
    def open(cls, path: Path) -> NpyRecording:
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise DataError(f"{path}: not a readable .npy array ({str(exc).splitlines()[0][:120]})",
                            fix="save the signal with numpy.save(path, array) as a float or int array") from None
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu" or array.ndim not in (1, 2) \
                or array.size == 0:
            raise DataError(f"{path}: holds a {getattr(array, 'dtype', '?')} array of shape "
                            f"{getattr(array, 'shape', '?')}, not a signal [samples] or [samples, leads] of numbers",
                            fix="save a 1-D or 2-D array of numbers")
        shape = array.shape if array.ndim == 2 else (array.shape[0], 1)
        leads_first = array.ndim == 2 and shape[0] <= MAX_LEADS < shape[1]
        n, c = (shape[1], shape[0]) if leads_first else shape
        if c > MAX_LEADS:
            raise DataError(f"{path}: shape {array.shape} has {c} columns; more than {MAX_LEADS} leads is unlikely",
                            fix="save the signal as [samples, leads]")
        # in the file, samples of one lead are contiguous when the array is [leads, samples] in C order
        # or [samples, leads] in Fortran order
        fortran = bool(array.flags.f_contiguous and not array.flags.c_contiguous)
        rec = cls(path, path.stem, [f"lead{i}" for i in range(c)], [None] * c, [n] * c, [""] * c)
        rec._layout = (int(array.offset), array.dtype, n, c, leads_first != fortran)
        del array
        return rec

    def _read(self, start: int, stop: int, channels: list[int]) -> np.ndarray:
        return read_raw(self.path, self._layout, start, stop, channels)
