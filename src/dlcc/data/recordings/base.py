"""A recording on disk that is read in pieces, whatever its format.

Every reader gives the same view: a name, the leads (names, one sampling rate each), the number
of samples, and `read(start, stop)` -> `[stop - start, n_leads]` float64 in the file's physical
units, with NaN where the file marks a sample invalid. Nothing is read until asked, so a
recording of any length costs only the piece being read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dlcc.errors import DataError


@dataclass
class Recording:
    """Base class; readers implement `_read(start, stop, channels)`.

    Attributes:
        path: the file the user named.
        name: a short name (the file stem).
        leads: lead names, one per channel.
        rates: sampling rate (Hz) per channel; None where the file does not say.
        n_samples: samples per channel.
        units: physical unit per channel ("mV", "uV", "" when unknown).
    """

    path: Path
    name: str
    leads: list[str]
    rates: list[float | None]
    n_samples: list[int]
    units: list[str] = field(default_factory=list)
    channels: list[int] | None = None     # the file's channels this view reads (None: all)

    @property
    def fs(self) -> float | None:
        """The common sampling rate of the leads (None when unknown)."""
        rates = set(self.rates)
        return self.rates[0] if len(rates) == 1 else None

    @property
    def length(self) -> int:
        return min(self.n_samples)

    def select(self, leads: list[str]) -> Recording:
        """A view of the named leads, in that order; they must share one sampling rate."""
        index = [self.leads.index(name) for name in leads]
        rates = [self.rates[i] for i in index]
        if len(set(rates)) > 1:
            parts = ", ".join(f"{self.leads[i]} {self.rates[i]:g} Hz" for i in index)
            raise DataError(f"{self.path}: the chosen leads have different sampling rates ({parts})",
                            fix="choose leads of one rate with --lead NAME")
        base = self.channels or list(range(len(self.leads)))
        view = type(self).__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.leads = [self.leads[i] for i in index]
        view.rates, view.n_samples = rates, [self.n_samples[i] for i in index]
        view.units = [self.units[i] for i in index] if self.units else []
        view.channels = [base[i] for i in index]
        return view

    def with_rate(self, fs: float) -> Recording:
        """The same view with sampling rate `fs` for every lead (for files that carry none)."""
        self.rates = [float(fs)] * len(self.leads)
        return self

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) of every lead of this view: `[n, n_leads]` float64 (NaN: invalid)."""
        start, stop = max(0, int(start)), min(int(stop), self.length)
        if stop <= start:
            return np.zeros((0, len(self.leads)))
        channels = self.channels or list(range(len(self.leads)))
        out = np.asarray(self._read(start, stop, channels), dtype=np.float64)
        return out.reshape(stop - start, len(channels))

    def _read(self, start: int, stop: int, channels: list[int]) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        """Release open files (readers that hold any override this)."""


def read_raw(path: Path, layout: tuple, start: int, stop: int, channels: list[int]) -> np.ndarray:
    """Samples [start, stop) of `channels` from a raw array file, by plain reads (no memory map,
    whose pages would stay resident). `layout` = (byte offset, dtype, samples, leads, by_lead):
    by_lead means each lead's samples are contiguous ([leads, samples] in C order)."""
    offset, dtype, n, c, by_lead = layout
    size = dtype.itemsize
    with open(path, "rb") as fh:
        if by_lead:
            cols = []
            for ch in channels:
                fh.seek(offset + (ch * n + start) * size)
                cols.append(np.fromfile(fh, dtype=dtype, count=stop - start))
            return np.stack(cols, axis=1).astype(np.float64)
        fh.seek(offset + start * c * size)
        rows = np.fromfile(fh, dtype=dtype, count=(stop - start) * c)
    return rows.reshape(stop - start, c)[:, channels].astype(np.float64)
