"""Every page of the app through Streamlit's AppTest (the real script, no browser): uploads in,
results and messages out; bad input gives a message on the page and the app keeps serving.
And `dlcc app`'s own bad input: exit 2 with one line."""

from __future__ import annotations

import io
import socket

import numpy as np
import pytest
from app_fixtures import APP, ecg_csv, png

from dlcc.cli import main


@pytest.fixture
def app(runs, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DLCC_APP_RUNS", str(runs))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception and at.title[0].value == "dlcc model app"
    return at


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def page(at, name: str):
    at.sidebar.radio(key="page").set_value(name).run()
    assert not at.exception
    return at


def test_every_page_renders_without_uploads(app):
    for name in ("Classify images", "Segment microscopy", "ECG R peaks", "Train live"):
        page(app, name)
        assert not app.error, texts(app.error)
        assert app.header[0].value == name


def test_classify_page_probabilities_saliency_and_bad_uploads(app):
    app.file_uploader(key="classify-upload").set_value([
        ("cat.png", png((32, 32, 3)), "image/png"),
        ("notes.txt", b"hello", "text/plain"),
        ("cut.png", png((64, 64, 3))[:300], "image/png"),
        ("fake.jpg", b"not a jpeg at all", "image/jpeg")]).run()
    assert not app.exception
    (ok,) = texts(app.success)
    assert ok.startswith("prediction: ")
    errors = texts(app.error)
    assert len(errors) == 3 and "notes.txt: not a file this page takes" in errors[0]
    assert "cut.png" in errors[1] and "truncated" in errors[1] and "fake.jpg" in errors[2]
    assert app.get("vega_lite_chart") and app.get("image")             # the bar chart and the overlay


def test_exported_model_gets_an_occlusion_map(app, runs):
    box = app.selectbox(key="classify-model")
    box.select(next(o for o in box.options if o.startswith("fast.onnx"))).run()
    app.file_uploader(key="classify-upload").set_value(("x.png", png((32, 32, 3)), "image/png")).run()
    assert texts(app.success)[0].startswith("prediction: ") and not app.error
    assert any("occlusion map" in str(img.proto) for img in app.get("image"))


def test_huge_upload_is_refused_on_the_page(runs, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DLCC_APP_RUNS", str(runs))
    monkeypatch.setenv("DLCC_APP_MAX_UPLOAD_MB", "1")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.file_uploader(key="classify-upload").set_value(("big.png", b"\x89PNG" + b"0" * 1_200_000, "image/png")).run()
    assert "more than the app's 1 MB limit" in texts(at.error)[0] and not at.exception


def test_another_tasks_model_and_a_missing_runs_folder_give_messages(seg_only, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DLCC_APP_RUNS", str(seg_only))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert "no classification run" in texts(at.warning)[0]
    assert "unet is a segmentation model" in texts(at.error)[0] and "Segment microscopy" in texts(at.error)[0]
    page(at, "Segment microscopy")
    assert not at.error                                                  # the app keeps serving
    at.sidebar.text_input(key="runs").set_value(str(tmp_path / "nowhere")).run()
    assert "does not exist" in texts(at.sidebar.error)[0] and not at.exception
    page(at, "ECG R peaks")
    assert at.selectbox(key="ecg-model").value.startswith("ecg-rpeak (shipped")
    box = at.selectbox(key="ecg-model")
    box.select(box.options[-1]).run()
    at.text_input(key="ecg-path").set_value(str(tmp_path / "missing-run")).run()
    assert "does not exist" in texts(at.error)[0] and not at.exception


def test_segment_page_shows_the_mask(app):
    page(app, "Segment microscopy")
    app.file_uploader(key="segment-upload").set_value([("cells.png", png((60, 80), seed=4), "image/png"),
                                                       ("cells.tif", b"II*\x00broken", "image/tiff")]).run()
    assert texts(app.success)[0].startswith("mask: ") and "of the pixels are foreground" in texts(app.success)[0]
    assert "cells.tif" in texts(app.error)[0] and app.get("image") and not app.exception


def test_ecg_page_peaks_heart_rate_and_bad_recordings(app):
    page(app, "ECG R peaks")
    data, n_peaks = ecg_csv(20)
    app.file_uploader(key="ecg-upload").set_value(("rec.csv", data, "text/csv")).run()
    (ok,) = texts(app.success)
    found = int(ok.split()[0])
    assert abs(found - n_peaks) <= 1 and "mean heart rate" in ok and not app.error
    assert app.get("image") and app.get("metric")                           # the trace with its peaks
    from dlcc.data import make_synthetic_ecg

    buf = io.BytesIO()
    np.save(buf, make_synthetic_ecg(20, fs=250, n_leads=1, seed=2)[0][:, 0])
    app.file_uploader(key="ecg-upload").set_value(("rec.npy", buf.getvalue(), "application/octet-stream")).run()
    assert "rec.npy: the sampling rate is unknown" in texts(app.error)[0] and "--fs" not in texts(app.error)[0]
    app.number_input(key="ecg-fs").set_value(250.0).run()
    assert texts(app.success) and not app.error
    for bad, words in [(("100.dat", b"\x00" * 64, "application/octet-stream"), "without its header"),
                       (("scan.pdf", b"%PDF-1.4", "application/pdf"), "not a file this page takes"),
                       (("rec.csv", b"time,ECG1\n0,abc\n", "text/csv"), "rec.csv")]:
        app.file_uploader(key="ecg-upload").set_value(bad).run()
        assert words in texts(app.error)[0] and not app.exception, texts(app.error)


def test_ecg_page_takes_a_wfdb_pair(app, tmp_path):
    wfdb = pytest.importorskip("wfdb")
    from dlcc.data import make_synthetic_ecg

    sig, peaks = make_synthetic_ecg(15, fs=250, n_leads=2, seed=4)
    wfdb.wrsamp("r7", fs=250, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=sig.astype(np.float64),
                fmt=["16", "16"], write_dir=str(tmp_path))
    page(app, "ECG R peaks")
    app.file_uploader(key="ecg-upload").set_value(
        [(name, (tmp_path / name).read_bytes(), "application/octet-stream") for name in ("r7.hea", "r7.dat")]).run()
    (ok,) = texts(app.success)
    assert abs(int(ok.split()[0]) - len(peaks)) <= 1 and not app.error
    assert [m.value for m in app.metric][2].startswith("MLII")               # the model's first lead, by name


@pytest.mark.slow          # trains mnist1d-mlp for an epoch: ~9 s on an idle 2-core machine
def test_train_page_trains_live_and_the_run_can_be_used(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DLCC_APP_RUNS", str(tmp_path))              # its own folder: other tests keep theirs
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    page(app, "Train live")
    app.slider(key="train-epochs").set_value(1)
    app.button(key="train-go").click().run()
    assert not app.exception and not app.error
    (ok,) = texts(app.success)
    assert ok.startswith("trained mnist1d-mlp-live-") and "test accuracy" in ok
    assert len(app.get("vega_lite_chart")) == 2                          # loss and accuracy curves
    page(app, "Classify images")
    assert app.selectbox(key="classify-model").value.startswith("mnist1d-mlp-live-")   # newest first
    buf = io.BytesIO()
    np.save(buf, np.random.default_rng(0).normal(size=(2, 40)).astype(np.float32))
    app.file_uploader(key="classify-upload").set_value(("rows.npy", buf.getvalue(), "application/octet-stream")).run()
    assert len(app.success) == 2 and not app.error


# ------------------------------------------------------------------------------ the command
def dlcc(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_app_command_bad_input_is_one_line(capsys, tmp_path, monkeypatch):
    code, _, err = dlcc(capsys, "app", "--runs", tmp_path / "nonexistent")
    assert code == 2 and "runs folder" in err and "does not exist" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2                               # the message and its fix
    (tmp_path / "file").write_text("x")
    assert "is a file" in dlcc(capsys, "app", "--runs", tmp_path / "file")[2]
    assert dlcc(capsys, "app", "--port", "0")[0] == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code, _, err = dlcc(capsys, "app", "--port", busy.getsockname()[1])
        assert code == 2 and "cannot listen" in err and "--port" in err


def test_app_command_without_streamlit_names_the_extra(capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "streamlit" else real(name, *a))
    code, _, err = dlcc(capsys, "app")
    assert code == 2 and "pip install 'dlcc[app]'" in err


def test_streamlit_command_line():
    from dlcc.commands.app import streamlit_command

    cmd = streamlit_command("127.0.0.1", 8765, 25)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("streamlit_app.py")
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert flags["--server.port"] == "8765" and flags["--server.maxUploadSize"] == "25"
    assert flags["--server.address"] == "127.0.0.1" and flags["--browser.gatherUsageStats"] == "false"
