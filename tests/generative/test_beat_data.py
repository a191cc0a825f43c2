"""Beats and lead segments for the ECG GANs: windows around R peaks with the right labels,
baseline wander removed, classes balanced by repetition, and simultaneous leads kept aligned."""

from __future__ import annotations

import numpy as np
import pytest

from dlcc.errors import DataError
from dlcc.signals.beats import balanced_indices, clean_lead, cut_beats, load_beats
from dlcc.signals.lead_pairs import paired_segments


def test_cut_beats_windows_labels_and_edges():
    lead = np.arange(1000, dtype=np.float32)
    peaks = np.array([5, 100, 400, 600, 990])            # the first and last lie too near the ends
    beats = cut_beats(lead, peaks, ["N", "V", "A", "N", "V"], "r1", before=10, after=20)
    assert beats.x.shape == (2, 30) and list(beats.y) == [1, 0]      # "A" is neither class
    assert np.array_equal(beats.x[0], np.arange(90, 120)) and list(beats.peak) == [100, 600]
    assert beats.counts() == {"normal": 1, "ventricular": 1} and set(beats.record) == {"r1"}


def test_clean_lead_removes_wander_and_standardises():
    fs = 360.0
    t = np.arange(0, 60, 1 / fs)
    beat = np.sin(2 * np.pi * 8 * t)                               # QRS-like content
    wander = 3 * np.sin(2 * np.pi * 0.1 * t)                       # breathing, 0.1 Hz
    cleaned = clean_lead(beat + wander + 5.0, fs)
    assert abs(cleaned.mean()) < 1e-3 and cleaned.std() == pytest.approx(1.0, abs=1e-3)
    assert np.corrcoef(cleaned, beat)[0, 1] > 0.99
    with pytest.raises(DataError, match="1-D signal"):
        clean_lead(np.zeros((10, 2)), fs)


def test_balanced_indices_repeat_the_rare_class():
    labels = np.array([0] * 10 + [1] * 3)
    idx = balanced_indices(labels, seed=0)
    assert np.bincount(labels[idx]).tolist() == [10, 10]
    assert set(idx[labels[idx] == 1]) == {10, 11, 12}


@pytest.mark.data
def test_real_beats_and_aligned_lead_pairs(shared_data, decoded_cache, monkeypatch):
    monkeypatch.setenv("DLCC_CACHE", str(decoded_cache))
    beats = load_beats(["119"])
    assert beats.counts() == {"normal": 1543, "ventricular": 444}      # the annotation counts of record 119
    assert beats.x.shape[1] == 256
    # the R peak sits at sample 90: normal beats peak there on average
    assert abs(int(np.abs(beats.x[beats.y == 0].mean(0)).argmax()) - 90) <= 3
    pairs, names = paired_segments(["119"], length=512, hop=512)
    assert pairs.shape[1:] == (2, 512) and set(names) == {"119"}
    single = load_beats(["119"], lead="V1")
    assert not np.allclose(pairs[:, 0], pairs[:, 1]) and len(single) == len(beats)
