"""What the app's pages compute, without Streamlit: uploads checked and decoded, models found
and refused by task, probabilities equal to `dlcc predict`'s, saliency and mask overlays, R
peaks of a synthetic ECG, and a live run that reports every epoch."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from app_fixtures import ecg_csv, png

from dlcc.errors import ConfigError, DataError


# ------------------------------------------------------------------------------ uploads
def test_safe_names_stay_inside_the_folder(tmp_path):
    from dlcc.app.uploads import safe_name, save_uploads

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\x\\my scan (1).png") == "my_scan__1_.png"
    assert safe_name("..") == "upload" and safe_name(".hidden.png") == "hidden.png"
    (path,) = save_uploads([("../../escape.png", b"x")], tmp_path)
    assert path.parent == tmp_path and path.read_bytes() == b"x"


@pytest.mark.parametrize("name, data, words", [
    ("report.pdf", b"%PDF", "not a file this page takes"),
    ("empty.png", b"", "empty"),
    ("big.png", b"0" * 2_100_000, "more than the app's 2 MB limit"),
])
def test_bad_uploads_are_refused_by_name_and_size(name, data, words):
    from dlcc.app.uploads import IMAGE_SUFFIXES, check_upload

    with pytest.raises(DataError, match=words):
        check_upload(name, data, IMAGE_SUFFIXES, max_mb=2)


def test_images_are_checked_before_decoding(tmp_path):
    from PIL import Image

    from dlcc.app.uploads import read_image_upload

    assert read_image_upload("ok.png", png((20, 30, 3)), tmp_path).shape == (20, 30, 3)
    assert read_image_upload("grey16.png", png((9, 7), dtype=np.uint16), tmp_path).dtype == np.uint16
    with pytest.raises(DataError, match="not a readable image") as err:
        read_image_upload("fake.png", b"this is text, not a PNG", tmp_path)
    assert str(tmp_path) not in str(err.value)                     # the upload's name, not the temp copy
    with pytest.raises(DataError, match="truncated"):
        read_image_upload("cut.png", png((64, 64, 3))[:300], tmp_path)
    buf = io.BytesIO()
    Image.new("L", (5000, 4000)).save(buf, format="PNG")           # 20 MP of zeros: a small file
    with pytest.raises(DataError, match="20 MP"):
        read_image_upload("huge.png", buf.getvalue(), tmp_path, max_pixels=16_000_000)


def test_vector_uploads(tmp_path):
    from dlcc.app.uploads import read_vectors_upload

    buf = io.BytesIO()
    np.save(buf, np.ones((3, 40), np.float32))
    assert read_vectors_upload("x.npy", buf.getvalue(), tmp_path, 40).shape == (3, 40)
    assert read_vectors_upload("x.csv", b"1,2,3\n4,5,6\n", tmp_path, 3).shape == (2, 3)
    with pytest.raises(DataError, match="rows of 40"):
        read_vectors_upload("x.csv", b"1,2,3\n", tmp_path, 40)
    with pytest.raises(DataError, match="cannot read"):
        read_vectors_upload("x.npy", b"\x93NUMPY garbage", tmp_path, 40)


# ------------------------------------------------------------------------------ models
def test_models_are_found_and_refused_by_task(runs, tmp_path):
    from dlcc.app.sources import (
        check_runs_dir,
        find_models,
        open_choice,
        open_path,
        require_task,
    )

    choices = {c.ref: c for c in find_models(runs)}
    assert choices[str(runs / "fast")].task == "classification"
    assert choices[str(runs / "unet")].task == "segmentation"
    assert choices[str(runs / "fast.onnx")].kind == "export"
    assert choices["ecg-rpeak"].kind == "shipped"
    unet = open_choice(choices[str(runs / "unet")])
    with pytest.raises(DataError, match=r"segmentation model (.|\n)*'Segment microscopy' page"):
        require_task(unet, "classification")
    with pytest.raises(ConfigError, match="does not exist"):
        check_runs_dir(tmp_path / "missing")
    with pytest.raises(DataError, match="does not exist"):
        open_path(str(tmp_path / "nope"))
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.yaml").write_text("recipe: [broken\n")   # listed only with metrics.json
    assert [c for c in find_models(tmp_path, shipped=False)] == []


# ------------------------------------------------------------------------------ pages' computations
def test_classification_matches_dlcc_predict_and_has_a_saliency_map(runs, tmp_path):
    from dlcc.app.classify import classify_image
    from dlcc.app.uploads import read_image_upload
    from dlcc.cli import main
    from dlcc.predict import open_model

    data = png((32, 32, 3), seed=3)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.png").write_bytes(data)
    assert main(["predict", str(runs / "fast"), str(tmp_path / "in"), "--out", str(tmp_path / "p")]) == 0
    with open(tmp_path / "p" / "predictions.csv", newline="") as fh:
        row = next(csv.DictReader(fh))
    for ref in (runs / "fast", runs / "fast.onnx"):
        result = classify_image(open_model(ref), read_image_upload("x.png", data, tmp_path))
        assert result.top == row["class"] and abs(result.probability - float(row["probability"])) < 1e-4
        assert abs(sum(result.probabilities.values()) - 1) < 1e-6
        assert result.overlay.dtype == np.uint8 and result.overlay.shape == (256, 256, 3)
        assert result.method == ("smoothgrad" if ref.is_dir() else "occlusion")


def test_segmentation_mask_and_overlay(runs, tmp_path):
    from dlcc.app.segment import segment_image
    from dlcc.app.uploads import read_image_upload
    from dlcc.predict import open_model

    pixels = read_image_upload("cells.png", png((50, 70), seed=2), tmp_path)
    result = segment_image(open_model(runs / "unet"), pixels)
    assert result.mask.shape == (50, 70) and result.mask.dtype == bool
    assert result.overlay.shape == (50, 70, 3) and 0 <= result.foreground <= 1


def test_ecg_peaks_and_heart_rate_of_a_synthetic_recording(tmp_path):
    from dlcc.app.ecg import detect_peaks, recording_of
    from dlcc.app.uploads import save_uploads
    from dlcc.predict import open_model

    data, n_peaks = ecg_csv(20)
    path = recording_of(save_uploads([("rec.csv", data)], tmp_path))
    result = detect_peaks(open_model("ecg-rpeak", shipped=True), path)
    assert abs(len(result.peaks_s) - n_peaks) <= 1 and 40 < result.mean_hr_bpm < 110
    assert result.table()[1]["hr_bpm"] > 0 and result.figure(5.0).axes
    with pytest.raises(DataError, match="without its header"):
        recording_of([Path("100.dat")])
    with pytest.raises(DataError, match="one at a time"):
        recording_of([Path("a.csv"), Path("b.npy")])


def test_live_training_reports_every_epoch(tmp_path):
    from dlcc.app.live import live_settings, train_live

    rows, steps = [], []
    run_dir, metrics = train_live("mnist1d-mlp", live_settings("mnist1d-mlp", 2), tmp_path,
                                  on_row=lambda row, done: rows.append((row["epoch"], done)),
                                  on_step=lambda step, loss: steps.append(step))
    assert rows == [(1, 0.5), (2, 1.0)] and steps and metrics["test_accuracy"] > 0.2
    assert (run_dir / "model.pt").is_file() and (run_dir / "metrics.json").is_file()
    with pytest.raises(ConfigError, match="outside"):
        live_settings("mnist1d-mlp", 500)
    with pytest.raises(ConfigError, match="not a recipe the app trains"):
        live_settings("cifar10-cnn", 1)
