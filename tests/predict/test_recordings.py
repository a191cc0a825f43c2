"""Reading recordings in pieces (WFDB, CSV, .npy, EDF) and reference beats; every reader gives the
same samples as reading the whole file another way."""

from __future__ import annotations

import numpy as np
import pytest

from dlcc.data import make_synthetic_ecg
from dlcc.data.recordings import open_recording, read_reference
from dlcc.errors import DataError


@pytest.fixture(scope="module")
def ecg():
    signal, peaks = make_synthetic_ecg(12, fs=250, n_leads=2, seed=7)
    return signal.astype(np.float64), peaks


@pytest.mark.data
def test_wfdb_header_reads_any_piece_with_lead_names(shared_data):
    wfdb = pytest.importorskip("wfdb")
    rec = open_recording(shared_data / "mitbih" / "114.hea")
    assert rec.leads == ["V5", "MLII"] and rec.fs == 360 and rec.length == 650_000 and rec.name == "114"
    whole = wfdb.rdrecord(str(shared_data / "mitbih" / "114"), sampto=5000).p_signal
    np.testing.assert_array_equal(rec.read(1000, 2000), whole[1000:2000])
    view = rec.select(["MLII"])
    np.testing.assert_array_equal(view.read(10, 20)[:, 0], whole[10:20, 1])
    assert open_recording(shared_data / "mitbih" / "114").leads == rec.leads     # record name without .hea
    beats = read_reference(shared_data / "mitbih" / "114.atr", 360)
    assert len(beats) == 1879 and np.all(np.diff(beats) > 0)


def test_wfdb_written_at_another_rate_with_nan(tmp_path, ecg):
    wfdb = pytest.importorskip("wfdb")
    signal, peaks = ecg
    gappy = signal.copy()
    gappy[100:120, 0] = np.nan
    wfdb.wrsamp("rec", fs=250, units=["mV", "mV"], sig_name=["I", "II"], p_signal=gappy, fmt=["16", "16"],
                write_dir=str(tmp_path))
    wfdb.wrann("rec", "atr", peaks, symbol=["N"] * len(peaks), write_dir=str(tmp_path))
    rec = open_recording(tmp_path / "rec.hea")
    assert rec.fs == 250 and rec.leads == ["I", "II"]
    piece = rec.read(90, 130)
    assert np.isnan(piece[10:30, 0]).all() and np.isfinite(piece[:, 1]).all()
    np.testing.assert_array_equal(read_reference(tmp_path / "rec.atr", 250), peaks)


def test_csv_variants_give_the_same_samples(tmp_path, ecg):
    signal, _ = ecg
    n = len(signal)
    t = np.arange(n) / 250
    np.savetxt(tmp_path / "plain.csv", signal, delimiter=",")                               # no header
    np.savetxt(tmp_path / "timed.csv", np.column_stack([t, signal]), delimiter=",")         # time first, no header
    np.savetxt(tmp_path / "named.csv", np.column_stack([np.arange(n), np.round(t * 1000, 3), signal]),
               delimiter=";", header="sample;time_ms;MLII;V1", comments="")
    np.savetxt(tmp_path / "rate.tsv", np.column_stack([np.full(n, 250.0), signal]), delimiter="\t",
               header="fs\tA\tB", comments="")
    np.savetxt(tmp_path / "spaces.txt", signal, delimiter=" ")
    for name, fs, leads in [("plain.csv", 250, ["lead0", "lead1"]), ("timed.csv", None, ["lead0", "lead1"]),
                            ("named.csv", None, ["MLII", "V1"]), ("rate.tsv", None, ["A", "B"]),
                            ("spaces.txt", 250, ["lead0", "lead1"])]:
        rec = open_recording(tmp_path / name, fs=fs)
        assert rec.leads == leads and rec.fs == pytest.approx(250, rel=1e-6) and rec.length == n, name
        np.testing.assert_allclose(rec.read(0, n), signal, atol=1e-4, err_msg=name)
        rec.close()


def test_csv_gaps_and_bad_csvs(tmp_path):
    (tmp_path / "gap.csv").write_text("time,ECG\n0,1\n0.01,\n0.02,NaN\n0.03,4\n")
    rec = open_recording(tmp_path / "gap.csv")
    assert rec.fs == pytest.approx(100) and np.isnan(rec.read(0, 4)[1:3, 0]).all()
    (tmp_path / "jump.csv").write_text("time,ECG\n0,1\n0.01,2\n0.02,3\n0.5,4\n0.51,5\n")
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3\n4,5,6\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header_only.csv").write_text("a,b\n")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81\x82")
    (tmp_path / "index_only.csv").write_text("sample\n1\n2\n")
    for name, message in [("jump.csv", "not evenly spaced"), ("ragged.csv", "cannot read the CSV"),
                          ("empty.csv", "empty"), ("header_only.csv", "no samples"), ("binary.csv", "not a text file"),
                          ("index_only.csv", "no signal columns")]:
        with pytest.raises(DataError, match=message):
            open_recording(tmp_path / name, fs=100)


def test_npy_shapes_and_rates(tmp_path, ecg):
    signal, _ = ecg
    np.save(tmp_path / "tc.npy", signal)
    np.save(tmp_path / "ct.npy", signal.T.astype(np.float32))
    np.save(tmp_path / "one.npy", signal[:, 0].astype(np.int16))
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}]), allow_pickle=True)
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 4)))
    a, b = open_recording(tmp_path / "tc.npy", fs=250), open_recording(tmp_path / "ct.npy", fs=250)
    np.testing.assert_allclose(a.read(5, 50), b.read(5, 50), atol=1e-5)
    assert open_recording(tmp_path / "one.npy", fs=250).leads == ["lead0"]
    with pytest.raises(DataError, match="sampling rate is unknown"):
        open_recording(tmp_path / "tc.npy")
    with pytest.raises(DataError, match="not a readable .npy"):
        open_recording(tmp_path / "obj.npy", fs=1)
    with pytest.raises(DataError, match="not a signal"):
        open_recording(tmp_path / "cube.npy", fs=1)


def test_edf_leads_rates_and_views(tmp_path, ecg):
    pyedflib = pytest.importorskip("pyedflib")
    signal, _ = ecg
    path = tmp_path / "r.edf"
    common = {"dimension": "mV", "physical_min": -5, "physical_max": 5, "digital_min": -32768, "digital_max": 32767}
    with pyedflib.EdfWriter(str(path), 3, file_type=pyedflib.FILETYPE_EDFPLUS) as w:
        w.setSignalHeaders([{"label": "ECG I", "sample_frequency": 250, **common},
                            {"label": "ECG II", "sample_frequency": 250, **common},
                            {"label": "Pleth", "sample_frequency": 125, **common}])
        w.writeSamples([np.ascontiguousarray(signal[:, 0]), np.ascontiguousarray(signal[:, 1]),
                        np.zeros(len(signal) // 2)])
    rec = open_recording(path)
    assert rec.leads == ["ECG I", "ECG II", "Pleth"] and rec.rates == [250, 250, 125] and rec.fs is None
    view = rec.select(["ECG II", "ECG I"])
    assert view.fs == 250 and view.length == len(signal)
    np.testing.assert_allclose(view.read(100, 200), signal[100:200, ::-1], atol=5e-4)   # 16-bit quantisation
    with pytest.raises(DataError, match="different sampling rates"):
        rec.select(["ECG I", "Pleth"])
    rec.close()
    (tmp_path / "bad.edf").write_bytes(b"0       not an edf header" * 20)
    with pytest.raises(DataError, match="not a readable EDF"):
        open_recording(tmp_path / "bad.edf")


def test_reference_csv_forms(tmp_path):
    (tmp_path / "samples.csv").write_text("sample,label\n10,N\n400,V\n")
    (tmp_path / "times.csv").write_text("time_s\n0.04\n1.6\n")
    (tmp_path / "bare_int.csv").write_text("10\n400\n")
    (tmp_path / "bare_float.csv").write_text("0.04\n1.6\n")
    (tmp_path / "triggers.csv").write_text("time_s,sample,rr_s,hr_bpm\n0.04,10,,\n1.6,400,1.56,38.5\n")
    for name in ("samples.csv", "times.csv", "bare_int.csv", "bare_float.csv", "triggers.csv"):
        np.testing.assert_array_equal(read_reference(tmp_path / name, 250), [10, 400], err_msg=name)
    (tmp_path / "nothing.csv").write_text("beat\n1\n")
    with pytest.raises(DataError, match="no column named sample or time_s"):
        read_reference(tmp_path / "nothing.csv", 250)
