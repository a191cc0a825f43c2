"""Choosing the detection threshold and the physiological rules on validation records.

Every choice is made on records the model was not trained on and that are not test records:
the recipe's validation records, or the out-of-fold records of a cross-validation. A value
given as a number is kept; "auto" is searched on a grid, scored by the F1 pooled over the
records (`dlcc.metrics.events`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dlcc.metrics.events import match_events, scores_from_counts
from dlcc.signals.postprocess import TriggerRules, apply_rules, candidate_peaks

THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.05), 2)
RULE_GRID = (0.0, 0.3, 0.5, 0.7)           # 0: rule off


def choose_rules(probs: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray], fs: float, *,
                 threshold: float | str = "auto", twave: float | str = 0.0, searchback: float | str = 0.0,
                 min_distance_s: float = 0.2, tolerance_s: float = 0.15) -> tuple[TriggerRules, float]:
    """The rules with the best pooled F1 on `probs` (per-record traces `[T]`) against `truth`
    (per-record beat indices), and that F1.

    For each rule combination the threshold is the middle of the plateau of equally good grid
    values (0.05 ... 0.95); of equally good combinations the first in the grid wins (rules off
    come first), so a rule is only switched on when it helps on these records.
    """
    thresholds = THRESHOLDS if threshold == "auto" else np.array([float(threshold)])
    twaves = RULE_GRID if twave == "auto" else (float(twave),)
    searchbacks = RULE_GRID if searchback == "auto" else (float(searchback),)
    floor = min(thresholds) * min([s for s in searchbacks if s > 0] or [1.0])
    cands = {name: candidate_peaks(p, fs, floor, min_distance_s) for name, p in probs.items()}
    tol = int(round(tolerance_s * fs))
    best: tuple[float, TriggerRules] | None = None
    for tw in twaves:
        for sb in searchbacks:
            scores = []
            for th in thresholds:
                rules = TriggerRules(float(th), min_distance_s, twave=tw, searchback=sb)
                counts = np.sum([match_events(truth[name], apply_rules(*cands[name], fs, rules), tol)
                                 for name in probs], axis=0)
                scores.append(scores_from_counts(*(int(c) for c in counts))["f1"])
            scores = np.array(scores)
            plateau = thresholds[scores >= scores.max() - 1e-12]
            rules = TriggerRules(float(plateau[len(plateau) // 2]), min_distance_s, twave=tw, searchback=sb)
            if best is None or scores.max() > best[0] + 1e-12:
                best = (float(scores.max()), rules)
    return best[1], best[0]
