"""Training examples from long records: fixed-length chunks and Gaussian-smoothed soft targets.

A 30-minute record is far longer than a model window, so training cuts chunks of
`chunk_length` samples. `ECGChunks(mode="random")` draws fresh random start positions every
time an item is read (so each epoch sees new chunk boundaries); `mode="tiled"` covers every
record with consecutive, non-overlapping chunks in a fixed order (for validation loss).

Targets: a spike train at the R-peak samples smoothed by a Gaussian of width `sigma` samples
and scaled so an isolated peak is exactly 1 (the course's `SmoothingTrigger`). Soft targets
tell the model that being a sample or two off is nearly right, which a BCE on a one-sample
spike would not.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d
from torch.utils.data import Dataset

from dlcc.errors import ConfigError, DataError
from dlcc.signals.preprocess import Prepared


def soft_targets(peaks: np.ndarray, length: int, sigma: float = 2.0) -> np.ndarray:
    """R-peak indices -> `[length]` float32 in [0, 1]; 1 at each peak, Gaussian around it.

    `sigma=0` gives hard 0/1 targets. Peaks outside [0, length) are ignored.
    """
    y = np.zeros(length, dtype=np.float64)
    peaks = np.asarray(peaks, dtype=np.int64)
    y[peaks[(peaks >= 0) & (peaks < length)]] = 1.0
    if sigma > 0:
        # divide by the kernel's centre value so an isolated peak stays exactly 1; a chunk with
        # no peak stays all-zero (the course divided by the chunk's max, 0/0 there)
        r = int(4 * sigma) + 1
        impulse = np.zeros(2 * r + 1)
        impulse[r] = 1.0
        centre = gaussian_filter1d(impulse, sigma, mode="constant")[r]
        y = np.minimum(gaussian_filter1d(y, sigma, mode="constant") / centre, 1.0)
    return y.astype(np.float32)


def augment(x: np.ndarray, rng: np.random.Generator, lead_off: float = 0.3) -> np.ndarray:
    """Random, label-preserving changes to a chunk `[L, C]` (float32 out).

    A gain per lead (x0.6-1.6), a slow baseline drift (up to 0.5 std, period 2-10 s at 360 Hz)
    and white noise (up to 0.1 std); and, with probability `lead_off` (multi-lead chunks only),
    one lead replaced by a featureless drift, as when an electrode comes loose or an amplifier
    saturates. Patients, electrodes and amplifiers differ in exactly these ways; a model that
    has seen them generalises better to records it never saw, and learns to find beats in
    whichever lead still shows them.
    """
    L, C = x.shape
    t = np.arange(L)[:, None] / 360.0
    gain = rng.uniform(0.6, 1.6, C)
    drift = rng.uniform(0, 0.5, C) * np.sin(2 * np.pi * t / rng.uniform(2, 10, C) + rng.uniform(0, 2 * np.pi, C))
    noise = rng.uniform(0, 0.1) * rng.standard_normal((L, C))
    out = x * gain + drift + noise
    if C > 1 and rng.random() < lead_off:
        c = rng.integers(C)
        out[:, c] = rng.normal(0, 1.5) + 4 * drift[:, c] + 0.02 * rng.standard_normal(L)
    return out.astype(np.float32)


class ECGChunks(Dataset):
    """Chunks of prepared records with their soft targets.

    Args:
        records: `Prepared` records (z-scored, at a common rate).
        chunk_length: samples per chunk (course: 1024).
        sigma: Gaussian width of the soft targets, in samples (0 = hard targets).
        mode: "random" (training; `chunks_per_record` random chunks per record per epoch) or
            "tiled" (evaluation; all consecutive chunks, the tail chunk aligned to the end).
        chunks_per_record: items per record and epoch in random mode.
        seed: seeds the start positions drawn in random mode.
        augment: True applies `augment` to every chunk (training only); a callable such as
            `dlcc.signals.augment.ChunkAugment` gets `span()` samples from a random start and
            returns the chunk and its targets.

    Items: x `[chunk_length, n_leads]` float32, y `[chunk_length]` float32.
    Records shorter than one chunk are skipped with a warning; if none is long enough the
    dataset refuses to build (`DataError`).
    """

    def __init__(self, records: list[Prepared], chunk_length: int = 1024, sigma: float = 2.0,
                 mode: str = "random", chunks_per_record: int = 100, seed: int = 0,
                 augment: bool = False):
        if mode not in ("random", "tiled"):
            raise ConfigError(f"chunk mode {mode!r} is not 'random' or 'tiled'")
        if chunk_length < 1:
            raise ConfigError(f"chunk_length must be >= 1; got {chunk_length}", fix="e.g. --set data.chunk_length=1024")
        short = [f"{r.name} ({len(r.signal)} samples)" for r in records if len(r.signal) < chunk_length]
        if short:
            warnings.warn(f"skipping {len(short)} record(s) shorter than one chunk of {chunk_length} "
                          f"samples: {', '.join(short)}", stacklevel=2)
        self.records = [r for r in records if len(r.signal) >= chunk_length]
        if not self.records:
            raise DataError(f"no record is at least one chunk ({chunk_length} samples) long: "
                            f"{', '.join(short) or 'no records given'}",
                            fix="use longer records or a shorter chunk, e.g. --set data.chunk_length=256")
        self.chunk_length, self.sigma, self.mode = chunk_length, sigma, mode
        self.chunks_per_record, self.augment = chunks_per_record, augment
        self.rng = np.random.default_rng(seed)
        self.targets = [soft_targets(r.r_peaks, len(r.signal), sigma) for r in self.records]
        if mode == "tiled":
            self.index = [(i, s) for i, r in enumerate(self.records)
                          for s in self._tile_starts(len(r.signal))]

    def state_dict(self) -> dict[str, str]:
        """The position of the chunk-drawing RNG (saved in training checkpoints, so a resumed run
        draws the same chunks and augmentations as an uninterrupted one)."""
        return {"rng": json.dumps(self.rng.bit_generator.state)}

    def load_state_dict(self, state: dict[str, str]) -> None:
        self.rng.bit_generator.state = json.loads(state["rng"])

    def _tile_starts(self, n: int) -> list[int]:
        starts = list(range(0, n - self.chunk_length + 1, self.chunk_length))
        if starts[-1] + self.chunk_length < n:
            starts.append(n - self.chunk_length)
        return starts

    def __len__(self) -> int:
        if self.mode == "tiled":
            return len(self.index)
        return len(self.records) * self.chunks_per_record

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mode == "random" and callable(self.augment):
            signal, target = self.records[i // self.chunks_per_record].signal, self.targets[i // self.chunks_per_record]
            span = min(self.augment.span(), len(signal))
            start = int(self.rng.integers(0, len(signal) - span + 1))
            x, y = self.augment(signal[start:start + span], target[start:start + span], self.rng)
            return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
        if self.mode == "tiled":
            rec, start = self.index[i]
        else:
            rec = i // self.chunks_per_record
            start = int(self.rng.integers(0, len(self.records[rec].signal) - self.chunk_length + 1))
        stop = start + self.chunk_length
        x = self.records[rec].signal[start:stop]
        y = self.targets[rec][start:stop]
        if self.augment:
            x = augment(x, self.rng)
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
