"""Training-chunk augmentation that mimics what differs between a training record and a
recording the detector has never seen: the lead, the patient's heart rate, the noise.

`ChunkAugment` is handed to `ECGChunks(augment=...)`. For each random chunk it gets a slightly
longer stretch of the prepared (z-scored) record and returns one chunk of `length` samples:

1. **time stretch** (`stretch`): a stretch of `length * s` samples resampled to `length`, with
   s drawn log-uniformly in [1/(1+stretch), 1+stretch]; heart rates and QRS widths differ
   between people by more than between the minutes of one record;
2. **virtual leads** (`leads`): an electrode records the projection of the heart's electrical
   vector on its own axis, so another lead is (to first order) another linear combination of
   the leads we have. Each input channel becomes `cos(a) x0 + sin(a) x1` for its own random
   angle a in [0, 2 pi) - other placements, inverted polarity (reversed electrodes, aVR), a
   nearly flat projection; re-standardised to unit variance;
3. **one lead** (`single_lead`): one virtual lead is copied into every channel, exactly what
   `dlcc predict` feeds a model when a recording has fewer leads than it was trained on;
4. **gain, drift and white noise** per lead, and a lead replaced by a featureless drift
   (`dlcc.signals.chunks.augment`, the recipe's plain augmentation);
5. **artefacts** (`artefacts`): the three noises of the MIT-BIH Noise Stress Test Database -
   electrode motion (slow swings and steps, the artefact most often taken for a beat), muscle
   (EMG: broadband bursts), baseline wander - as 0.2-3 s bursts on one lead or all, plus
   50/60 Hz mains hum and amplifier saturation (clipping).

Targets are stretched with the signal and otherwise kept: a beat in noise is still a beat (the
MIT-BIH annotators marked beats through noise too). Randomness comes from the dataset's own
generator, which checkpoints save, so a resumed run draws the same augmentations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcc.signals.chunks import augment as gain_drift_noise


@dataclass
class ChunkAugment:
    """Callable `(x [span, C], y [span], rng) -> (x [length, C], y [length])`, float32.

    Args:
        length: samples per output chunk.
        stretch: largest relative time stretch (0: off), e.g. 0.15 for 0.87x-1.15x.
        leads: probability of replacing the leads by random virtual leads.
        single_lead: probability of one virtual lead copied into every channel.
        artefacts: probability of motion / muscle / wander bursts, mains hum or clipping.
        fs: sampling rate of the prepared records (Hz).
    """

    length: int
    stretch: float = 0.0
    leads: float = 0.0
    single_lead: float = 0.0
    artefacts: float = 0.0
    fs: float = 360.0

    def span(self) -> int:
        """Samples of the record to hand in: enough for the longest stretch."""
        return int(np.ceil(self.length * (1.0 + self.stretch)))

    def __call__(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._stretch(np.asarray(x, np.float64), np.asarray(y, np.float64), rng)
        C = x.shape[1]
        single = C > 1 and rng.random() < self.single_lead
        if single or rng.random() < self.leads:
            x = virtual_leads(x, rng, 1 if single else C)
        x = gain_drift_noise(x, rng, lead_off=0.0 if single else 0.3).astype(np.float64)
        if rng.random() < self.artefacts:
            x = add_artefacts(x, rng, self.fs)
        if single:
            x = np.repeat(x[:, :1], C, axis=1)
        return x.astype(np.float32), y.astype(np.float32)

    def _stretch(self, x: np.ndarray, y: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        L = self.length
        if self.stretch <= 0:
            return x[:L], y[:L]
        hi = min(1.0 + self.stretch, len(x) / L)
        s = float(np.exp(rng.uniform(-np.log1p(self.stretch), np.log(hi))))
        grid = np.arange(L) * s           # output sample i reads input position i * s
        src = np.arange(len(x))
        out = np.stack([np.interp(grid, src, x[:, c]) for c in range(x.shape[1])], axis=1)
        return out, np.interp(grid, src, y)


def virtual_leads(x: np.ndarray, rng: np.random.Generator, n_out: int) -> np.ndarray:
    """`[L, C]` -> `[L, C]`: the first `n_out` channels replaced by random projections
    `cos(a) x0 + sin(a) x1` of the first two leads (one lead: a random polarity), each scaled to
    unit standard deviation over the chunk; the rest are copies of the first (filled later)."""
    L, C = x.shape
    out = np.empty_like(x)
    for c in range(C):
        if c >= n_out:
            out[:, c] = out[:, 0]
            continue
        if C == 1:
            v = x[:, 0] * rng.choice([-1.0, 1.0])
        else:
            a = rng.uniform(0, 2 * np.pi)
            v = np.cos(a) * x[:, 0] + np.sin(a) * x[:, 1]
        out[:, c] = v / max(float(v.std()), 0.1)
    return out


def _burst(rng: np.random.Generator, L: int, fs: float) -> tuple[int, int]:
    n = int(min(L, rng.uniform(0.2, 3.0) * fs))
    start = int(rng.integers(0, L - n + 1))
    return start, start + n


def _smooth_noise(rng: np.random.Generator, n: int, fs: float, cutoff: float) -> np.ndarray:
    """White noise low-passed at about `cutoff` Hz (moving average), unit std."""
    width = max(1, int(fs / cutoff))
    v = np.convolve(rng.standard_normal(n + width), np.ones(width) / width, mode="valid")[:n]
    return v / max(float(v.std()), 1e-8)


def add_artefacts(x: np.ndarray, rng: np.random.Generator, fs: float = 360.0) -> np.ndarray:
    """One to three noise bursts (electrode motion, muscle, baseline wander) on one lead or on
    all, and sometimes mains hum or clipping. `[L, C]` float64 (z-scored units) -> same."""
    x = x.copy()
    L, C = x.shape
    for _ in range(int(rng.integers(1, 4))):
        lo, hi = _burst(rng, L, fs)
        n = hi - lo
        kind = rng.choice(["motion", "muscle", "wander"])
        if kind == "motion":       # slow swings with steps, the size of a QRS or larger
            noise = rng.uniform(0.5, 2.5) * _smooth_noise(rng, n, fs, rng.uniform(2, 8))
            noise += np.cumsum(rng.random(n) < 3.0 / fs) * rng.normal(0, 0.8)
        elif kind == "muscle":     # broadband EMG
            noise = rng.uniform(0.1, 0.6) * rng.standard_normal(n)
        else:                      # respiration / movement baseline wander
            noise = rng.uniform(0.5, 2.0) * _smooth_noise(rng, n, fs, 0.5)
        ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.05 * fs) + 1e-3)
        leads = [int(rng.integers(C))] if rng.random() < 0.5 else list(range(C))
        for c in leads:
            x[lo:hi, c] += ramp * noise
    if rng.random() < 0.3:         # mains interference
        t = np.arange(L) / fs
        f = rng.choice([50.0, 60.0])
        x += rng.uniform(0.05, 0.4) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))[:, None]
    if rng.random() < 0.2:         # amplifier / ADC saturation
        level = rng.uniform(1.5, 4.0)
        x = np.clip(x, -level, level)
    return x
