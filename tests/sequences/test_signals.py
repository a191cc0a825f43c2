"""ECG preparation, chunks, soft targets, sliding-window detection, classical detectors."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dlcc.data import make_synthetic_ecg
from dlcc.errors import ConfigError, DataError, InputError
from dlcc.metrics.events import event_scores
from dlcc.signals import (ECGChunks, find_triggers, pan_tompkins, predict_probs, prepare_record,
                          resample_signal, soft_targets, xqrs, zscore)


def record(signal, peaks, fs=360.0, leads=None, name="r1"):
    signal = np.asarray(signal, dtype=np.float32)
    leads = leads or tuple(f"l{i}" for i in range(signal.shape[1]))
    return SimpleNamespace(name=name, signal=signal, fs=fs, leads=leads, r_peaks=peaks)


@pytest.fixture(scope="module")
def synthetic():
    signal, peaks = make_synthetic_ecg(60, fs=360, n_leads=2, seed=4)
    return signal, peaks


def test_zscore_per_lead():
    x = np.stack([np.arange(10.0), 5 + 3 * np.arange(10.0)], 1)
    z = zscore(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-6)
    np.testing.assert_allclose(z[:, 0], z[:, 1], atol=1e-6)


def test_prepare_record_resamples_other_rates_and_moves_the_peaks(synthetic):
    signal, peaks = make_synthetic_ecg(30, fs=250, n_leads=2, seed=1)
    prep = prepare_record(record(signal, peaks, fs=250))
    assert prep.fs == 360 and len(prep.signal) == 30 * 360
    expected = np.round(peaks * 360 / 250).astype(int)
    np.testing.assert_array_equal(prep.r_peaks, expected)
    # the R wave is still where the moved annotation says (lead 0 peaks exactly on its R sample)
    for p in prep.r_peaks[1:-1]:
        assert abs(int(np.argmax(prep.signal[p - 20:p + 21, 0])) - 20) <= 1


def test_resample_signal_keeps_a_slow_sine():
    t_in = np.arange(1000) / 500.0
    out = resample_signal(np.sin(2 * np.pi * 3 * t_in)[:, None], 500, 360)
    assert out.shape == (720, 1)
    t_out = np.arange(720) / 360.0
    np.testing.assert_allclose(out[50:-50, 0], np.sin(2 * np.pi * 3 * t_out)[50:-50], atol=2e-3)


def test_prepare_record_orders_mlii_first(synthetic):
    signal, peaks = synthetic
    prep = prepare_record(record(signal[:, ::-1], peaks, leads=("V5", "MLII")))
    assert prep.leads == ["MLII", "V5"]
    np.testing.assert_allclose(prep.signal[:, 0], zscore(signal)[:, 0], atol=1e-5)


@pytest.mark.parametrize("make,message", [
    (lambda s, p: record(s[:, :1], p), r"has 1 lead\(s\) \(l0\) but the model needs 2"),
    (lambda s, p: record(np.where(np.arange(2) == 1, np.nan, s), p), "lead 'l1' has no valid samples"),
    (lambda s, p: record(np.where(np.arange(2) == 1, 0.0, s), p), r"lead\(s\) l1 are constant"),
    (lambda s, p: record(s, np.array([], dtype=np.int64)), "has no beat annotations"),
    (lambda s, p: record(s, None), "has no beat annotations"),
    (lambda s, p: record(s, np.append(p, 10 ** 7)), "lies outside the signal"),
    (lambda s, p: record(s, p, fs=0), "sampling rate 0 is not a positive number"),
    (lambda s, p: record(np.zeros((0, 2)), p), "expected a signal"),
])
def test_prepare_record_rejects_bad_records_by_name(synthetic, make, message):
    signal, peaks = synthetic
    with pytest.raises(DataError, match=message) as err:
        prepare_record(make(signal, peaks))
    assert "record r1" in err.value.message and err.value.fix


def test_prepare_record_fills_short_gaps_and_allows_missing_peaks_for_inference(synthetic):
    signal, peaks = synthetic
    gappy = signal.copy()
    gappy[100:110, 0] = np.nan
    prep = prepare_record(record(gappy, None), require_peaks=False)
    assert np.isfinite(prep.signal).all() and len(prep.r_peaks) == 0


def test_soft_targets():
    y = soft_targets(np.array([10, 60]), 100, sigma=2.0)
    assert y.dtype == np.float32 and y[10] == 1.0 and y[60] == 1.0
    assert 0.5 < y[12] < 0.7 and y[30] < 1e-6
    np.testing.assert_array_equal(soft_targets(np.array([5]), 10, 0), np.eye(10)[5])
    assert not soft_targets(np.array([], dtype=np.int64), 50, 2.0).any()   # no beat: all zero, no NaN


def test_chunks_random_and_tiled(synthetic):
    signal, peaks = synthetic
    prep = prepare_record(record(signal, peaks))
    ds = ECGChunks([prep], chunk_length=1000, sigma=2.0, mode="random", chunks_per_record=5, seed=0)
    x, y = ds[3]
    assert len(ds) == 5 and x.shape == (1000, 2) and y.shape == (1000,) and x.dtype == torch.float32
    tiled = ECGChunks([prep], 1000, 2.0, mode="tiled")
    assert len(tiled) == 22                           # 21 full chunks + one aligned to the end
    np.testing.assert_array_equal(tiled[21][0].numpy(), prep.signal[-1000:])
    total = sum(float(tiled[i][1].sum()) for i in range(21))
    assert total > 0


def test_chunks_skip_short_records_and_refuse_when_none_fit(synthetic):
    signal, peaks = synthetic
    long = prepare_record(record(signal, peaks, name="long"))
    short = prepare_record(record(signal[:500], peaks[peaks < 500], name="short"))
    with pytest.warns(UserWarning, match=r"short \(500 samples\)"):
        ds = ECGChunks([long, short], 1024, mode="tiled")
    assert {ds.records[0].name} == {"long"}
    with pytest.raises(DataError, match="no record is at least one chunk") as err:
        with pytest.warns(UserWarning):
            ECGChunks([short], 1024)
    assert "chunk_length" in err.value.fix


class FirstLead(torch.nn.Module):
    """A 'model' whose logit is the first lead: probabilities are known exactly."""

    def forward(self, x):
        return x[..., 0]


@pytest.mark.parametrize("T", [100, 1024, 5000])
def test_predict_probs_stitches_windows_exactly(T):
    signal = np.random.default_rng(0).standard_normal((T, 2)).astype(np.float32)
    probs = predict_probs(FirstLead(), signal, window=1024, hop=300)
    assert probs.shape == (T,)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-signal[:, 0])), rtol=1e-5)


def test_find_triggers_threshold_and_distance():
    p = np.zeros(1000)
    p[[100, 150, 400, 800]] = [0.9, 0.95, 0.4, 0.7]
    assert list(find_triggers(p, fs=360, threshold=0.5, min_distance_s=0.2)) == [150, 800]
    assert list(find_triggers(p, fs=360, threshold=0.3, min_distance_s=0.1)) == [100, 150, 400, 800]
    with pytest.raises(ConfigError):
        find_triggers(p, threshold=1.5)


def test_pan_tompkins_on_synthetic_ecg(synthetic):
    signal, peaks = synthetic
    found = pan_tompkins(signal[:, 0], 360)
    assert event_scores(peaks, found, 360)["f1"] >= 0.99
    with pytest.raises(InputError, match="at least 2 s"):
        pan_tompkins(signal[:100, 0], 360)


def test_xqrs_on_synthetic_ecg(synthetic):
    signal, peaks = synthetic
    assert event_scores(peaks, xqrs(signal[:, 0], 360), 360)["f1"] >= 0.97
    with pytest.raises(InputError, match="at least 2 s"):
        xqrs(signal[:10, 0], 360)


@pytest.mark.data
def test_classical_detectors_on_mitbih_record_100(shared_data):
    from dlcc.data import load_mitbih

    rec = load_mitbih(["100"])[0]
    n = 360 * 120
    truth = rec.r_peaks[rec.r_peaks < n]
    for detector in (pan_tompkins, xqrs):
        assert event_scores(truth, detector(rec.signal[:n, 0], rec.fs), rec.fs)["f1"] >= 0.99


def test_augmented_chunks_change_the_signal_not_the_targets(synthetic):
    from dlcc.signals.chunks import augment

    signal, peaks = synthetic
    prep = prepare_record(record(signal, peaks))
    x = prep.signal[:1000]
    a = augment(x, np.random.default_rng(0))
    assert a.shape == x.shape and a.dtype == np.float32 and not np.allclose(a, x)
    np.testing.assert_array_equal(a, augment(x, np.random.default_rng(0)))
    plain = ECGChunks([prep], 1000, mode="random", chunks_per_record=3, seed=5)
    augmented = ECGChunks([prep], 1000, mode="random", chunks_per_record=3, seed=5, augment=True)
    (x1, y1), (x2, y2) = plain[0], augmented[0]
    torch.testing.assert_close(y1, y2)            # same start, same soft targets
    assert not torch.allclose(x1, x2)


def test_random_chunks_resume_exactly_from_a_checkpoint(synthetic, tmp_path):
    """The chunk RNG is saved in the training checkpoint: training 1 epoch, then resuming to 3,
    ends with the same weights as 3 epochs in one go (chunks and augmentation drawn alike)."""
    from dlcc.models.tcn import TCN
    from dlcc.train import fit

    prepared = prepare_record(record(*synthetic), 2)

    def train(out, epochs, resume=False):
        torch.manual_seed(0)
        ds = ECGChunks([prepared], 128, 4.0, "random", 8, seed=3, augment=True)
        loader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True,
                                             generator=torch.Generator().manual_seed(0))
        model = TCN(2, 4, 2, 3, 0.0, True)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        trainer = fit(model, loader, None, torch.nn.functional.binary_cross_entropy_with_logits, opt, epochs,
                      metrics={}, out_dir=out, resume=resume, progress=False, config={"run": "ecg"})
        return trainer.model.state_dict()

    whole = train(tmp_path / "whole", 3)
    train(tmp_path / "part", 1)
    np.random.seed(123)   # the chunk RNG is the dataset's own: the global one must not matter
    resumed = train(tmp_path / "part", 3, resume=True)
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    state = torch.load(tmp_path / "part" / "checkpoints" / "last.pt", weights_only=True)
    assert "rng" in state["datasets"]["train"]
