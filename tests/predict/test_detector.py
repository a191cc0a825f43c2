"""The generalising R-peak detector's parts: streamed preparation and detection (equal to the
whole-record path), the physiological rules and their choice, the augmentations, the ensemble
recipe on synthetic records."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dlcc.cli import main
from dlcc.data import make_synthetic_ecg
from dlcc.data.recordings.base import Recording
from dlcc.models.ensemble import MeanProbability
from dlcc.models.tcn import TCN
from dlcc.signals import find_triggers, predict_probs, prepare_record
from dlcc.signals.augment import ChunkAugment, add_artefacts, virtual_leads
from dlcc.signals.choose import choose_rules
from dlcc.signals.postprocess import TriggerRules, apply_rules, candidate_peaks, detect_triggers
from dlcc.signals.stream import PreparedStream, stream_candidates, stream_probs, torch_probs


class ArrayRecording(Recording):
    def _read(self, start, stop, channels):
        return self.array[start:stop][:, channels]


def in_memory(x: np.ndarray, fs: float) -> ArrayRecording:
    c = x.shape[1]
    rec = ArrayRecording(Path("mem.npy"), "mem", [f"l{i}" for i in range(c)], [fs] * c, [len(x)] * c, [""] * c)
    rec.array = x
    return rec


def gappy_ecg(fs: int, seconds: float = 60):
    signal, peaks = make_synthetic_ecg(seconds, fs=fs, n_leads=2, seed=3)
    x = signal.astype(np.float64)
    x[1000:1300, 0] = np.nan                     # inside
    x[:50, 1] = np.nan                           # leading
    x[-20:, 0] = np.nan                          # trailing
    x[4090:4110, 1] = np.nan                     # across a block boundary (block 4096 below)
    return x, peaks


@pytest.mark.parametrize("fs", [360, 250, 500])
def test_streamed_preparation_equals_prepare_record(fs):
    x, _ = gappy_ecg(fs)
    whole = prepare_record(SimpleNamespace(name="r", signal=x, fs=fs, leads=["a", "b"], r_peaks=None), 2,
                           first_lead=None, require_peaks=False).signal
    small = PreparedStream(in_memory(x, fs), 360.0)                     # at once: exactly prepare_record
    np.testing.assert_array_equal(small.segment(0, small.length), whole)
    streamed = PreparedStream(in_memory(x, fs), 360.0, whole_values=1000, block=4096)
    assert streamed.length == len(whole)
    np.testing.assert_allclose(streamed.segment(0, streamed.length), whole, atol=2e-6)
    np.testing.assert_allclose(streamed.segment(7001, 9003), whole[7001:9003], atol=2e-6)


def test_streamed_probabilities_and_candidates_equal_the_whole_trace():
    x, _ = gappy_ecg(360, seconds=40)
    torch.manual_seed(0)
    model = TCN(2, 8, 4, 3, 0.0, False).eval()
    whole = PreparedStream(in_memory(x, 360), 360.0)
    ref = predict_probs(model, whole.segment(0, whole.length), 1024, 512)
    same = np.concatenate([p for _, p in stream_probs(torch_probs(model), whole, 1024, 512)])
    np.testing.assert_array_equal(same, ref)                            # same windows, batches, blending
    streamed = PreparedStream(in_memory(x, 360), 360.0, whole_values=1000, block=4096)
    pieces = list(stream_probs(torch_probs(model), streamed, 1024, 512, batch_size=5))
    assert len(pieces) > 3 and pieces[0][0] == 0
    np.testing.assert_allclose(np.concatenate([p for _, p in pieces]), ref, atol=1e-5)
    peaks, heights = candidate_peaks(ref, 360.0, 0.05)
    got = stream_candidates(stream_probs(torch_probs(model), whole, 1024, 512), 360.0, 0.05, chunk=3000, margin_s=2)
    np.testing.assert_array_equal(got[0], peaks)
    np.testing.assert_allclose(got[1], heights)


def test_one_lead_is_copied_into_every_input():
    x, _ = gappy_ecg(360, seconds=10)
    stream = PreparedStream(in_memory(x[:, :1], 360), 360.0, n_inputs=2)
    seg = stream.segment(0, 100)
    assert seg.shape == (100, 2) and np.array_equal(seg[:, 0], seg[:, 1])


def test_flat_and_empty_leads_are_refused_in_both_paths():
    from dlcc.errors import DataError

    x, _ = gappy_ecg(360, seconds=20)
    flat = x.copy()
    flat[:, 1] = 0.5
    empty = x.copy()
    empty[:, 0] = np.nan
    for kwargs in ({}, {"whole_values": 1000, "block": 2048}):
        with pytest.raises(DataError, match="'l1' is constant"):
            PreparedStream(in_memory(flat, 360), 360.0, **kwargs)
        with pytest.raises(DataError, match="'l0' has no valid samples"):
            PreparedStream(in_memory(empty, 360), 360.0, **kwargs)


# ------------------------------------------------------------------------------ rules
def spikes(positions, heights, n=3600):
    p = np.zeros(n)
    for i, h in zip(positions, heights):
        p[i - 2:i + 3] = [h * 0.5, h * 0.8, h, h * 0.8, h * 0.5]
    return p


def test_rules_off_equal_find_triggers():
    p = np.random.default_rng(0).random(5000) ** 4
    rules = TriggerRules(0.4, 0.2)
    np.testing.assert_array_equal(detect_triggers(p, 360, rules), find_triggers(p, 360, 0.4, 0.2))


def test_twave_rule_drops_the_weak_trigger_after_a_beat_and_keeps_ectopic_beats():
    # beats every 300 samples (0.83 s); a weak "T wave" 100 samples (0.28 s) after beat 2; an
    # early strong beat 110 samples after beat 5
    p = spikes([300, 600, 700, 900, 1200, 1500, 1610, 1900], [0.9, 0.9, 0.35, 0.9, 0.9, 0.9, 0.85, 0.9])
    plain = detect_triggers(p, 360, TriggerRules(0.3))
    assert 700 in plain and 1610 in plain
    ruled = detect_triggers(p, 360, TriggerRules(0.3, twave=0.5))
    assert 700 not in ruled and 1610 in ruled and len(ruled) == len(plain) - 1


def test_search_back_finds_a_weak_beat_in_a_long_gap_only():
    # regular beats every 300 samples; the one at 1500 is weak (0.2 < threshold 0.5); a weak
    # bump at 2050 lies in a normal interval and must stay out
    positions = [300, 600, 900, 1200, 1500, 1800, 2100, 2400]
    heights = [0.9, 0.9, 0.9, 0.9, 0.2, 0.9, 0.9, 0.9]
    p = spikes(positions + [1950], heights + [0.2])
    plain = detect_triggers(p, 360, TriggerRules(0.5))
    assert 1500 not in plain
    back = detect_triggers(p, 360, TriggerRules(0.5, searchback=0.3))
    assert 1500 in back and 1950 not in back
    assert list(back) == positions
    assert 1500 not in detect_triggers(p, 360, TriggerRules(0.5, searchback=0.5))   # 0.2 < 0.25


def test_choose_rules_switches_a_rule_on_only_when_it_helps():
    positions = list(range(300, 3300, 300))
    heights = [0.9] * len(positions)
    heights[4] = 0.2                                  # a weak beat at 1500
    noise = [450, 750, 2250, 2550]                    # bumps of 0.3 between beats far from it
    p = spikes(positions + noise, heights + [0.3] * len(noise), n=3600)
    rules, f1 = choose_rules({"r": p}, {"r": np.array(positions)}, 360.0, twave="auto", searchback="auto")
    assert f1 == 1.0 and rules.searchback > 0 and rules.twave == 0.0
    clean = spikes(positions, [0.9] * len(positions))
    rules, f1 = choose_rules({"r": clean}, {"r": np.array(positions)}, 360.0, twave="auto", searchback="auto")
    assert f1 == 1.0 and rules.searchback == 0.0 and rules.twave == 0.0


def test_rules_round_trip_through_artifacts():
    rules = TriggerRules(0.45, 0.2, twave=0.3, searchback=0.5)
    assert TriggerRules.from_artifacts(json.loads(json.dumps(rules.to_dict()))) == rules
    assert TriggerRules.from_artifacts({"threshold": 0.6, "min_distance_s": 0.25}) == TriggerRules(0.6, 0.25)


# ------------------------------------------------------------------------------ augmentation
def test_chunk_augment_shapes_stretch_and_single_lead():
    rng = np.random.default_rng(0)
    L = 512
    aug = ChunkAugment(L, stretch=0.2, leads=1.0, single_lead=0.0, artefacts=1.0)
    x = rng.standard_normal((aug.span(), 2)).astype(np.float32)
    y = np.zeros(aug.span(), np.float32)
    y[300] = 1.0
    out_x, out_y = aug(x, y, rng)
    assert out_x.shape == (L, 2) and out_y.shape == (L,) and out_x.dtype == np.float32
    assert aug.span() == int(np.ceil(L * 1.2))
    stretched = [int(np.argmax(aug(x, y, np.random.default_rng(s))[1])) for s in range(20)]
    assert min(stretched) < 290 and max(stretched) > 310 and all(249 <= s <= 361 for s in stretched)
    single = ChunkAugment(L, single_lead=1.0)
    sx, _ = single(x, y, rng)
    np.testing.assert_array_equal(sx[:, 0], sx[:, 1])
    again = [ChunkAugment(L, 0.2, 0.5, 0.2, 0.5)(x, y, np.random.default_rng(7))[0] for _ in range(2)]
    np.testing.assert_array_equal(*again)                                        # seeded: reproducible


def test_virtual_leads_are_unit_variance_projections():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1000, 2))
    v = virtual_leads(x, rng, 2)
    np.testing.assert_allclose(v.std(0), 1.0, rtol=1e-6)
    for c in range(2):                   # each output lies in the span of the two leads
        coef, residual, *_ = np.linalg.lstsq(x, v[:, c], rcond=None)
        assert residual[0] < 1e-8


def test_artefacts_change_the_signal_but_not_its_shape():
    x = np.zeros((2000, 2))
    out = add_artefacts(x, np.random.default_rng(3))
    assert out.shape == x.shape and np.abs(out).max() > 0.05 and np.isfinite(out).all()


# ------------------------------------------------------------------------------ the ensemble recipe
@pytest.mark.slow
def test_ensemble_recipe_on_synthetic_records(tmp_path, capsys):
    out = tmp_path / "ens"
    sets = ["data.source=synthetic", "data.synthetic.records=6", "data.synthetic.seconds=30", "data.folds=2",
            "train.epochs=1", "data.chunks_per_record=8", "model.levels=3", "model.channels=8",
            "train.warmup_steps=1", "data.chunk_length=256", "detect.hop=128", "plots.records=1"]
    code = main(["run", "ecg-rpeak-ensemble", *[x for s in sets for x in ("--set", s)], "--out", str(out),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    oof = json.loads((out / "oof.json").read_text())
    assert oof["folds"] == [["syn0", "syn2", "syn4"], ["syn1", "syn3"]]
    assert set(oof["per_record"]) == {"syn0", "syn1", "syn2", "syn3", "syn4"}      # every CV record, out of fold
    assert metrics["val_f1"] == oof["f1"] and len(metrics["test_member_f1"]) == 2 and 0 <= metrics["test_f1"] <= 1
    from dlcc.recipes import load_run

    run = load_run(out)
    assert isinstance(run.model, MeanProbability) and len(run.model.members) == 2
    assert run.artifacts["input"]["single_lead"] == "copy"
    assert run.artifacts["detect"]["threshold"] == metrics["threshold"]
    for k in range(2):
        assert (out / f"member{k}" / "model.pt").is_file()


def test_mean_probability_averages_member_probabilities():
    torch.manual_seed(0)
    a, b = TCN(2, 4, 2, 3, 0.0, False), TCN(2, 4, 2, 3, 0.0, False)
    x = torch.randn(3, 64, 2)
    with torch.no_grad():
        want = (torch.sigmoid(a(x)) + torch.sigmoid(b(x))) / 2
        got = torch.sigmoid(MeanProbability([a, b])(x))
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)
    assert list(apply_rules(np.array([10]), np.array([0.9]), 360, TriggerRules(0.5))) == [10]
