"""Event-level detection metric: matching within a tolerance, Se / +P / F1, pooling."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from dlcc.metrics.events import evaluate_records, event_scores, match_events, pooled_scores


def test_known_counts():
    true = [100, 400, 700, 1000]
    found = [110, 395, 760, 1000, 1003, 1500]
    # 110~100, 395~400, 760 is 60 away from 700 (> 54 = 150 ms at 360 Hz), 1000 once, 1003 and 1500 extra
    assert match_events(true, found, 54) == (3, 3, 1)
    s = event_scores(true, found, fs=360)
    assert s["sensitivity"] == 0.75 and s["ppv"] == 0.5 and s["f1"] == pytest.approx(6 / 10)


def test_tolerance_is_inclusive_and_in_seconds():
    assert match_events([100], [154], 54) == (1, 0, 0)
    assert match_events([100], [155], 54) == (0, 1, 1)
    assert event_scores([1000], [1075], fs=500, tolerance_s=0.15)["tp"] == 1   # 75 samples = 150 ms at 500 Hz


def test_empty_cases():
    assert event_scores([], [], 360)["f1"] == 1.0
    assert event_scores([5], [], 360)["sensitivity"] == 0.0
    assert event_scores([], [5], 360)["ppv"] == 0.0


def _best_matching(true, found, tol):
    if not len(true) or not len(found):
        return 0
    cost = (np.abs(np.subtract.outer(true, found)) > tol).astype(float)
    rows, cols = linear_sum_assignment(cost)
    return int((cost[rows, cols] == 0).sum())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 300), max_size=12), st.lists(st.integers(0, 300), max_size=12),
       st.integers(0, 30))
def test_greedy_sweep_finds_a_largest_matching(true, found, tol):
    tp, fp, fn = match_events(true, found, tol)
    assert tp == _best_matching(np.array(true), np.array(found), tol)
    assert fp == len(found) - tp and fn == len(true) - tp


def test_pooled_scores_weight_records_by_beats():
    per, overall = evaluate_records({"a": np.array([10, 500]), "b": np.arange(10) * 400},
                                    {"a": np.array([10]), "b": np.arange(10) * 400}, fs=360)
    assert per["a"]["sensitivity"] == 0.5 and per["b"]["f1"] == 1.0
    assert overall == pooled_scores(per) and overall["tp"] == 11 and overall["fn"] == 1
    assert overall["sensitivity"] == pytest.approx(11 / 12)
