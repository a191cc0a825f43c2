"""The judges dlcc ships: small (under 1 MB together), plain arrays (no pickles), accurate on
data they were not trained on, and a clear error for a damaged file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import DataError
from dlcc.generative.judges import BEAT_TEST_RECORDS, JUDGES, load_judge, predict_labels, weights_dir


def test_shipped_weights_are_small_plain_arrays():
    files = [weights_dir() / file for _, file in JUDGES.values()]
    assert sum(f.stat().st_size for f in files) < 1_000_000
    for f in files:
        with np.load(f, allow_pickle=False) as z:          # would raise on pickled objects
            assert all(z[k].dtype != object for k in z.files)


def test_judge_features_and_logits():
    judge = load_judge("mnist")
    x = torch.zeros(3, 1, 28, 28)
    assert judge.features(x).shape == (3, 128) and judge(x).shape == (3, 10)
    assert not any(p.requires_grad for p in judge.parameters()) and not judge.training
    assert judge.meta["test_accuracy"] > 0.99
    beats = load_judge("beats")
    assert beats.features(torch.zeros(2, 1, 256)).shape == (2, 64)


@pytest.mark.data
def test_mnist_judge_on_test_digits(shared_data, decoded_cache, monkeypatch):
    from dlcc.data import load_mnist
    from dlcc.generative.images import to_unit

    monkeypatch.setenv("DLCC_CACHE", str(decoded_cache))
    x, y = load_mnist()["test"]
    assert (predict_labels(load_judge("mnist"), to_unit(x[:2000])) == y[:2000]).mean() >= 0.98


@pytest.mark.data
def test_beat_judge_on_a_patient_it_never_saw(shared_data, decoded_cache, monkeypatch):
    from dlcc.signals.beats import load_beats

    monkeypatch.setenv("DLCC_CACHE", str(decoded_cache))
    beats = load_beats([BEAT_TEST_RECORDS[0]])                 # record 105: held out from its training
    pred = predict_labels(load_judge("beats"), torch.from_numpy(beats.x).unsqueeze(1))
    assert (pred == beats.y).mean() >= 0.95


def test_damaged_or_missing_weights_are_a_clear_error(tmp_path):
    bad = tmp_path / "mnist_judge.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot read the mnist judge's weights"):
        load_judge("mnist", bad)
    with pytest.raises(DataError, match="are missing"):
        load_judge("mnist", tmp_path / "nothing.npz")
