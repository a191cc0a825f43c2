"""`dlcc predict` on ECG recordings: parity with the recipe's own evaluation, the shipped
detector, exported models, every input format, and bad input (exit 2, one line, nothing lost)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from dlcc.cli import main
from dlcc.data import make_synthetic_ecg

TINY_TCN = ["data.source=synthetic", "data.synthetic.records=3", "data.synthetic.seconds=40",
            "data.chunk_length=256", "data.chunks_per_record=16", "train.epochs=2", "train.batch_size=8",
            "train.warmup_steps=1", "detect.hop=128", "plots.records=0", "model.channels=8", "model.levels=4"]


def dlcc(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def train(capsys, out: Path, sets: list[str], recipe: str = "ecg-rpeak-tcn") -> Path:
    code, _, err = dlcc(capsys, "run", recipe, *[x for s in sets for x in ("--set", s)], "--out", out, "--no-progress")
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny ecg-rpeak-tcn run on synthetic records (2 leads, 360 Hz)."""
    out = tmp_path_factory.mktemp("ecg") / "run"
    assert main(["run", "ecg-rpeak-tcn", *[x for s in TINY_TCN for x in ("--set", s)], "--out", str(out),
                 "--no-progress"]) == 0
    return out


def read_triggers(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, signal: np.ndarray, fs: float | None, header: bool = True, time_ms: bool = False):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        if header:
            time = ["time_ms"] if time_ms else ["time"] if fs else []
            w.writerow(time + [f"ECG{i + 1}" for i in range(signal.shape[1])])
        for i, row in enumerate(signal):
            t = [f"{i * 1000 / fs:.3f}" if time_ms else f"{i / fs:.6f}"] if fs else []
            w.writerow(t + ["" if np.isnan(v) else f"{v:.5f}" for v in row])


# --------------------------------------------------------------------------- parity with the recipe
@pytest.mark.data
@pytest.mark.slow
def test_predict_on_plain_wfdb_files_gives_the_recipes_own_scores(tmp_path, capsys, shared_data):
    run = train(capsys, tmp_path / "run", ["data.train_records=[100]", "data.val_records=[101]",
                                           "data.test_records=[103]", "data.chunks_per_record=24", "train.epochs=1",
                                           "model.channels=8", "model.levels=5", "plots.records=0"])
    recipe = json.loads((run / "per_record.json").read_text())["test"]["103"]
    records = tmp_path / "anywhere"
    records.mkdir()
    for ext in ("hea", "dat", "atr"):
        shutil.copy(shared_data / "mitbih" / f"103.{ext}", records)
    code, out, err = dlcc(capsys, "predict", run, records / "103.hea", "--out", tmp_path / "pred")
    assert code == 0, err
    row = json.loads((tmp_path / "pred" / "summary.json").read_text())["records"][0]
    assert {k: row[k] for k in ("tp", "fp", "fn")} == {k: recipe[k] for k in ("tp", "fp", "fn")}
    assert row["f1"] == recipe["f1"] and "F1" in out
    triggers = read_triggers(tmp_path / "pred" / "103_triggers.csv")
    assert len(triggers) == row["beats"] == recipe["tp"] + recipe["fp"]
    assert (tmp_path / "pred" / "103.png").read_bytes()[:4] == b"\x89PNG"


def test_predict_folder_batch_with_csv_npy_and_references(tiny_run, tmp_path, capsys):
    """A folder of recordings in three formats (one with a NaN gap) runs as one batch with a summary."""
    signal, peaks = make_synthetic_ecg(30, fs=250, n_leads=2, seed=11)
    folder = tmp_path / "recs"
    folder.mkdir()
    gappy = signal.astype(np.float64)
    gappy[2000:2100, 1] = np.nan
    write_csv(folder / "a.csv", gappy, fs=250)
    np.save(folder / "b.npy", signal.T)                       # [leads, samples] is recognised
    np.savetxt(folder / "c.csv", signal, delimiter=",")       # no header, no time: needs --fs
    (folder / "notes.md").write_text("not a recording")       # other files are ignored
    refs = tmp_path / "refs"
    refs.mkdir()
    for stem in ("a", "b", "c"):
        with open(refs / f"{stem}.csv", "w") as fh:
            fh.write("sample\n" + "\n".join(str(p) for p in peaks) + "\n")
    code, out, err = dlcc(capsys, "predict", tiny_run, folder, "--fs", 250, "--annotations", refs,
                          "--out", tmp_path / "pred")
    assert code == 0, err
    summary = json.loads((tmp_path / "pred" / "summary.json").read_text())
    assert [r["record"] for r in summary["records"]] == ["a", "b", "c"]
    assert all(r["fs_hz"] == 250 and r["reference"].endswith(".csv") for r in summary["records"])
    assert summary["overall"]["tp"] + summary["overall"]["fn"] == 3 * len(peaks)
    assert (tmp_path / "pred" / "summary.csv").read_text().count("\n") == 4
    rows = read_triggers(tmp_path / "pred" / "b_triggers.csv")
    assert rows[0]["hr_bpm"] == "" and float(rows[1]["hr_bpm"]) > 0 and 0 <= int(rows[-1]["sample"]) < 30 * 250
    code, _, err = dlcc(capsys, "predict", tiny_run, folder / "a.csv", "--fs", 300, "--out", tmp_path / "x")
    assert code == 2 and "says 250 Hz but --fs says 300 Hz" in err


def test_csv_time_column_sets_the_rate_and_gaps_are_filled(tiny_run, tmp_path, capsys):
    signal, _ = make_synthetic_ecg(20, fs=500, n_leads=2, seed=2)
    signal = signal.astype(np.float64)
    signal[3000:3400, 0] = np.nan
    write_csv(tmp_path / "rec.csv", signal, fs=500, time_ms=True)
    code, out, err = dlcc(capsys, "predict", tiny_run, tmp_path / "rec.csv", "--out", tmp_path / "p")
    assert code == 0, err
    row = json.loads((tmp_path / "p" / "summary.json").read_text())["records"][0]
    assert row["fs_hz"] == pytest.approx(500) and row["duration_s"] == pytest.approx(20, abs=0.01)


def test_edf_with_several_rates(tiny_run, tmp_path, capsys):
    pyedflib = pytest.importorskip("pyedflib")
    signal, peaks = make_synthetic_ecg(20, fs=256, n_leads=2, seed=5)
    path = tmp_path / "rec.edf"
    headers = [{"label": "ECG1", "dimension": "mV", "sample_frequency": 256, "physical_min": -5, "physical_max": 5,
                "digital_min": -32768, "digital_max": 32767},
               {"label": "ECG2", "dimension": "mV", "sample_frequency": 256, "physical_min": -5, "physical_max": 5,
                "digital_min": -32768, "digital_max": 32767},
               {"label": "Resp", "dimension": "a.u.", "sample_frequency": 32, "physical_min": -5, "physical_max": 5,
                "digital_min": -32768, "digital_max": 32767}]
    with pyedflib.EdfWriter(str(path), 3, file_type=pyedflib.FILETYPE_EDFPLUS) as w:
        w.setSignalHeaders(headers)
        w.writeSamples([signal[:, 0].astype(np.float64), signal[:, 1].astype(np.float64),
                        np.sin(np.arange(20 * 32) / 5.0)])
    code, _, err = dlcc(capsys, "predict", tiny_run, path, "--out", tmp_path / "p")
    assert code == 0, err
    row = json.loads((tmp_path / "p" / "summary.json").read_text())["records"][0]
    assert row["leads"] == "ECG1+ECG2" and row["fs_hz"] == 256
    code, _, err = dlcc(capsys, "predict", tiny_run, path, "--lead", "ECG1,Resp", "--out", tmp_path / "q")
    assert code == 2 and "different sampling rates" in err and "ECG1 256 Hz, Resp 32 Hz" in err
    assert "Traceback" not in err and not (tmp_path / "q").exists()


# --------------------------------------------------------------------------- the shipped detector
@pytest.mark.data
def test_shipped_detector_on_a_wfdb_record_and_one_lead(tmp_path, capsys, shared_data):
    code, out, err = dlcc(capsys, "predict", "--model", "ecg-rpeak", shared_data / "mitbih" / "119.hea",
                          "--out", tmp_path / "p")
    assert code == 0, err
    row = json.loads((tmp_path / "p" / "summary.json").read_text())["records"][0]
    assert row["f1"] > 0.99        # a record the shipped model trained on: a smoke test, not a score
    signal, peaks = make_synthetic_ecg(60, fs=500, n_leads=1, seed=8)
    np.save(tmp_path / "one_lead.npy", signal[:, 0])
    code, out, err = dlcc(capsys, "predict", "--model", "ecg-rpeak", tmp_path / "one_lead.npy", "--fs", 500,
                          "--out", tmp_path / "q")
    assert code == 0, err
    row = json.loads((tmp_path / "q" / "summary.json").read_text())["records"][0]
    assert row["leads"] == "lead0" and abs(row["beats"] - len(peaks)) <= 2


# --------------------------------------------------------------------------- exported models
@pytest.mark.slow
def test_exported_model_gives_the_run_dirs_triggers(tiny_run, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    signal, _ = make_synthetic_ecg(30, fs=360, n_leads=2, seed=21)
    np.save(tmp_path / "rec.npy", signal)
    code, _, err = dlcc(capsys, "export", tiny_run, "--format", "onnx", "--out", tmp_path / "tcn.onnx")
    assert code == 0, err
    assert dlcc(capsys, "predict", tiny_run, tmp_path / "rec.npy", "--fs", 360, "--out", tmp_path / "a")[0] == 0
    code, _, err = dlcc(capsys, "predict", tmp_path / "tcn.onnx", tmp_path / "rec.npy", "--fs", 360,
                        "--out", tmp_path / "b")
    assert code == 0, err
    a, b = read_triggers(tmp_path / "a" / "rec_triggers.csv"), read_triggers(tmp_path / "b" / "rec_triggers.csv")
    assert [r["sample"] for r in a] == [r["sample"] for r in b] and len(a) > 10


# --------------------------------------------------------------------------- bad input
def test_bad_ecg_inputs_exit_2_with_one_line(tiny_run, tmp_path, capsys):
    signal, _ = make_synthetic_ecg(20, fs=360, n_leads=2, seed=1)
    np.save(tmp_path / "rec.npy", signal)
    np.save(tmp_path / "one.npy", signal[:, 0])
    bad_nan = signal.astype(np.float64)
    bad_nan[:, 1] = np.nan
    np.save(tmp_path / "deadlead.npy", bad_nan)
    (tmp_path / "odd.csv").write_text("time,ECG\n0,1\n0.1,2\n0.5,3\n0.6,2\n")
    (tmp_path / "words.csv").write_text("a,b\n1,2\nx,y\n")
    (tmp_path / "rec.xyz").write_text("?")
    cases = [
        ((tmp_path / "rec.npy",), "sampling rate is unknown"),
        ((tmp_path / "one.npy", "--fs", 360), "needs 2"),                        # a 2-lead model, one lead
        ((tmp_path / "deadlead.npy", "--fs", 360), "no valid samples"),
        ((tmp_path / "odd.csv",), "not evenly spaced"),
        ((tmp_path / "words.csv", "--fs", 100), "cannot read the CSV"),
        ((tmp_path / "rec.xyz",), "unknown recording format"),
        ((tmp_path / "missing.hea",), "no such file"),
        ((tmp_path / "rec.npy", "--fs", -3), "positive number"),
        ((tmp_path / "rec.npy", "--fs", 360, "--lead", "V9"), "no lead 'V9'"),
        ((tmp_path / "rec.npy", "--fs", 360, "--annotations", tmp_path / "none.csv"), "no such annotation file"),
    ]
    for i, (args, message) in enumerate(cases):
        code, _, err = dlcc(capsys, "predict", tiny_run, *args, "--out", tmp_path / f"out{i}")
        assert code == 2, (args, err)
        assert message in err, (args, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) <= 2
        assert not (tmp_path / f"out{i}").exists()          # nothing left behind


def test_model_and_out_errors(tiny_run, tmp_path, capsys):
    signal, _ = make_synthetic_ecg(20, fs=360, n_leads=2, seed=1)
    np.save(tmp_path / "rec.npy", signal)
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    cases = [
        ((tmp_path / "no-run", tmp_path / "rec.npy"), "does not exist"),
        ((tiny_run, tmp_path / "rec.npy", "--fs", 360, "--out", out), "not empty"),
        (("--model", "ecg-nope", tmp_path / "rec.npy"), "ships no model"),
        ((tiny_run, tmp_path / "picture.png"), "is an image"),
        ((tiny_run, tmp_path / "rec.npy", "--fs", 360, "--prompt", "hi"), "--prompt is for language models"),
    ]
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    for args, message in cases:
        code, _, err = dlcc(capsys, "predict", *args)
        assert code == 2 and message in err and "Traceback" not in err, (args, err)
    assert (out / "keep.txt").read_text() == "mine" and sorted(p.name for p in out.iterdir()) == ["keep.txt"]
