"""Event-level detection scores: was each true event found, and was each detection real?

A detection matches a true event when they are at most `tolerance_s` apart (150 ms by default,
the usual QRS-detection window of ANSI/AAMI EC57); each event and each detection is matched at
most once. Then

    sensitivity (Se)             = TP / (TP + FN)     fraction of true events found
    positive predictivity (+P)   = TP / (TP + FP)     fraction of detections that are real
    F1                           = 2 TP / (2 TP + FP + FN)

Overall scores pool TP/FP/FN over records (the "gross" statistic of EC57), so a long record
weighs more than a short one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def match_events(true: np.ndarray, detected: np.ndarray, tolerance: int) -> tuple[int, int, int]:
    """(TP, FP, FN) for two sets of sample indices, with a one-to-one matching.

    Both lists are sorted and swept together; each true event takes the earliest unmatched
    detection within `tolerance` samples. For equal-width windows on a line this greedy sweep
    finds a largest possible matching.
    """
    t = np.sort(np.asarray(true, dtype=np.int64).ravel())
    d = np.sort(np.asarray(detected, dtype=np.int64).ravel())
    tp, j = 0, 0
    for event in t:
        while j < len(d) and d[j] < event - tolerance:   # too early for this and all later events
            j += 1
        if j < len(d) and d[j] <= event + tolerance:
            tp += 1
            j += 1
    return tp, len(d) - tp, len(t) - tp


def scores_from_counts(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Se, +P and F1 from counts (1.0 when the denominator is 0: nothing to find, nothing found)."""
    se = tp / (tp + fn) if tp + fn else 1.0
    ppv = tp / (tp + fp) if tp + fp else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"sensitivity": se, "ppv": ppv, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def event_scores(true: np.ndarray, detected: np.ndarray, fs: float, tolerance_s: float = 0.150) -> dict:
    """Scores for one record. `true`, `detected`: sample indices at rate `fs` (Hz)."""
    tolerance = int(round(tolerance_s * fs))
    return scores_from_counts(*match_events(true, detected, tolerance))


def pooled_scores(per_record: Mapping[str, Mapping]) -> dict:
    """Overall scores from per-record results (each with tp/fp/fn), pooled over records."""
    tp = sum(int(r["tp"]) for r in per_record.values())
    fp = sum(int(r["fp"]) for r in per_record.values())
    fn = sum(int(r["fn"]) for r in per_record.values())
    return scores_from_counts(tp, fp, fn)


def evaluate_records(truth: Mapping[str, np.ndarray], detections: Mapping[str, np.ndarray],
                     fs: float, tolerance_s: float = 0.150) -> tuple[dict, dict]:
    """(per-record scores by name, pooled overall scores) for matching dicts of index arrays."""
    per = {name: event_scores(truth[name], detections[name], fs, tolerance_s) for name in truth}
    return per, pooled_scores(per)
