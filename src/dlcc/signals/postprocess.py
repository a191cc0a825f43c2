"""From a probability trace to triggers, with two rules from cardiac physiology.

`find_triggers` keeps every local maximum above a threshold that is at least 200 ms from a
higher one (the ventricles cannot depolarise again within their refractory period). Two more
rules use what the heart's rhythm says about a candidate:

- **T-wave rule** (`twave`): ventricular repolarisation (the T wave) follows each QRS complex
  by 200-400 ms, and a tall or broad T wave is the commonest false trigger. Of two triggers
  closer than `twave_window_s` (360 ms), the weaker is dropped when its probability is below
  `twave` times the stronger one's. An early ectopic beat is kept: it is a QRS, so the model
  is about as sure of it as of its neighbour.
- **Search-back** (`searchback`): sinus rhythm changes gradually, so an interval longer than
  `rr_gap` (1.66) times the median of the last 8 RR intervals more often hides a missed
  low-amplitude beat than a pause. In such a gap the highest candidate above
  `searchback * threshold` that is `min_distance_s` from both neighbours is taken as a beat
  (Pan & Tompkins 1985 search back the same way, at half their threshold).

`twave = 0` and `searchback = 0` switch a rule off; with both off, `detect_triggers` is exactly
`find_triggers`. The rules work on the list of candidate peaks (a few per beat), never on the
whole trace, so a streamed 24-hour recording needs only its candidates in memory.
"""

from __future__ import annotations

from collections import deque
from statistics import median
from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import find_peaks

from dlcc.errors import ConfigError


@dataclass(frozen=True)
class TriggerRules:
    """How candidates become triggers (saved in a run's artifacts under "detect")."""

    threshold: float = 0.5
    min_distance_s: float = 0.2
    twave: float = 0.0
    twave_window_s: float = 0.36
    searchback: float = 0.0
    rr_gap: float = 1.66

    def __post_init__(self):
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"trigger threshold must be between 0 and 1; got {self.threshold}",
                              fix="e.g. --set detect.threshold=0.5")
        for name in ("twave", "searchback"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"detect.{name} must be in [0, 1) (0: off); got {getattr(self, name)}")

    @property
    def lowest(self) -> float:
        """The lowest probability a trigger can have (search-back reaches below the threshold)."""
        return self.threshold * self.searchback if self.searchback > 0 else self.threshold

    @classmethod
    def from_artifacts(cls, detect: dict) -> TriggerRules:
        """From a run's `artifacts["detect"]` (keys it lacks keep their defaults: rules off)."""
        known = {k: float(v) for k, v in detect.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict:
        return asdict(self)


def candidate_peaks(probs: np.ndarray, fs: float, height: float, min_distance_s: float = 0.2
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima of `probs` `[T]` at least `height` and `min_distance_s` from a higher one:
    (sample indices `[n]` int64, probabilities `[n]` float64). A peak above a higher threshold
    is a candidate at every lower one (only a higher peak can suppress it)."""
    probs = np.asarray(probs, dtype=np.float64)
    distance = max(1, int(round(min_distance_s * fs)))
    peaks, props = find_peaks(probs, height=height, distance=distance)
    return peaks.astype(np.int64), props["peak_heights"]


def apply_rules(peaks: np.ndarray, heights: np.ndarray, fs: float, rules: TriggerRules) -> np.ndarray:
    """Candidates (from `candidate_peaks` at `rules.lowest` or lower) -> trigger indices `[m]`."""
    peaks, heights = np.asarray(peaks, np.int64), np.asarray(heights, np.float64)
    strong = heights >= rules.threshold
    kept = _twave_rule(peaks[strong], heights[strong], fs, rules) if rules.twave > 0 else list(peaks[strong])
    if rules.searchback > 0:
        kept = _search_back(kept, peaks, heights, fs, rules)
    return np.asarray(kept, dtype=np.int64)


def detect_triggers(probs: np.ndarray, fs: float, rules: TriggerRules) -> np.ndarray:
    """Trigger sample indices `[m]` of a whole probability trace `[T]`."""
    peaks, heights = candidate_peaks(probs, fs, rules.lowest, rules.min_distance_s)
    return apply_rules(peaks, heights, fs, rules)


def _twave_rule(peaks: np.ndarray, heights: np.ndarray, fs: float, rules: TriggerRules) -> list[int]:
    window = rules.twave_window_s * fs
    kept: list[int] = []
    kept_h: list[float] = []
    for p, h in zip(peaks.tolist(), heights.tolist()):
        if kept and p - kept[-1] < window:
            if h < rules.twave * kept_h[-1]:
                continue                       # a weak trigger just after a beat: its T wave
            if kept_h[-1] < rules.twave * h:   # the earlier one was the weak one
                kept[-1], kept_h[-1] = p, h
                continue
        kept.append(p)
        kept_h.append(h)
    return kept


def _search_back(kept: list[int], peaks: np.ndarray, heights: np.ndarray, fs: float,
                 rules: TriggerRules) -> list[int]:
    floor = rules.threshold * rules.searchback
    gap_min = int(round(rules.min_distance_s * fs))
    out: list[int] = []
    rr: deque[int] = deque(maxlen=8)
    for b in kept:
        while out and len(rr) >= 2:
            a = out[-1]
            if b - a <= rules.rr_gap * median(rr):
                break
            lo, hi = np.searchsorted(peaks, a + gap_min), np.searchsorted(peaks, b - gap_min, side="right")
            inside = [j for j in range(lo, hi) if floor <= heights[j] < rules.threshold]
            if not inside:
                break
            best = int(peaks[max(inside, key=lambda j: heights[j])])
            rr.append(best - a)
            out.append(best)                   # then look again at the rest of the gap
        if out:
            rr.append(b - out[-1])
        out.append(b)
    return out
