"""`dlcc explain RUN_DIR IMAGE`: overlays and raw maps for an image classifier and a U-Net
region, and bad input exiting 2 with nothing overwritten."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from dlcc.cli import main

PNG = b"\x89PNG"


def _explain(capsys, *args):
    code = main(["explain", *map(str, args)])
    return code, *capsys.readouterr()


@pytest.fixture
def colour_png(tmp_path):
    path = tmp_path / "img.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(path)
    return path


def test_every_method_on_a_classifier(fast_run, colour_png, capsys, tmp_path):
    out = tmp_path / "explained"
    code, stdout, err = _explain(capsys, fast_run, colour_png, "--samples", "4", "--steps", "8", "--out", out,
                                 "--json")
    assert code == 0, err
    info = json.loads(stdout)
    assert info["target"] == info["predicted"] and 0 < info["probability"] <= 1
    assert info["methods"] == ["saliency", "smoothgrad", "integrated_gradients", "gradcam", "occlusion"]
    maps = np.load(out / "maps.npz")
    assert maps["image"].shape == (3, 32, 32) and all(maps[m].shape == (32, 32) for m in info["methods"])
    assert np.isfinite(maps["integrated_gradients"]).all() and maps["gradcam"].min() >= 0
    assert (out / "overlays.png").read_bytes()[:4] == PNG


def test_target_by_name_and_a_resize_notice(fast_run, tmp_path, capsys):
    big = tmp_path / "big.jpg"
    Image.fromarray(np.full((40, 60, 3), 128, np.uint8)).save(big)
    code, stdout, err = _explain(capsys, fast_run, big, "--method", "saliency,gradcam", "--target", "cat",
                                 "--out", tmp_path / "o")
    assert code == 0, err
    assert "big.jpg is 40x60; resized to the model's 32x32" in stdout
    assert json.loads((tmp_path / "o" / "explain.json").read_text())["target"] == "cat"


@pytest.mark.data
@pytest.mark.slow
def test_unet_region_on_a_real_em_slice(tmp_path_factory, capsys, shared_data):
    import tiny_runs

    from dlcc.data import load_isbi2012

    run = tiny_runs.isbi_run(tmp_path_factory.mktemp("runs") / "isbi")
    tmp = tmp_path_factory.mktemp("img")
    Image.fromarray(load_isbi2012()["train_images"][28][:96, :80]).save(tmp / "slice.png")
    capsys.readouterr()                                   # the run's own log
    code, stdout, err = _explain(capsys, run, tmp / "slice.png", "--region", "10,10,40,30", "--steps", "4",
                                 "--samples", "2", "--out", tmp / "o", "--json")
    assert code == 0, err
    info = json.loads(stdout)
    assert info["task"] == "segmentation" and info["region_pixels"] == 30 * 20
    maps = np.load(tmp / "o" / "maps.npz")
    assert all(maps[m].shape == (96, 80) for m in info["methods"])
    for args, message in ((["--target", "1"], "--target is for classifiers"),
                          (["--region", "10,10,40,99"], "not inside the 96x80 image")):
        code, _, err = _explain(capsys, run, tmp / "slice.png", *args, "--out", tmp / "bad")
        assert code == 2 and message in err and "Traceback" not in err, err
    assert not (tmp / "bad").exists()
    code = main(["attack", str(run), "--out", str(tmp / "bad")])     # the same U-Net run is no classifier
    err = capsys.readouterr().err
    assert code == 2 and "is a segmentation run; `dlcc attack` measures classifiers" in err, err
    assert not (tmp / "bad").exists()
    far = np.abs(maps["saliency"][70:, 60:]).max()      # outside the region's receptive field in a depth-2 U-Net
    assert maps["saliency"][10:40, 10:30].max() > 0 and far == 0


@pytest.mark.parametrize("args, message", [
    (["--method", "lime"], "unknown method(s) ['lime']"),
    (["--target", "zebra"], "'zebra' is not one of this run's classes"),
    (["--steps", "1"], "--steps must be at least 2"),
    (["--noise", "nan"], "--noise must be >= 0"),
    (["--region", "0,0,4,4"], "--region is for segmentation runs"),
])
def test_bad_options_exit_2(fast_run, colour_png, capsys, tmp_path, args, message):
    code, _, err = _explain(capsys, fast_run, colour_png, *args, "--out", tmp_path / "o")
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not (tmp_path / "o").exists()


def test_bad_images_and_folders_exit_2(fast_run, colour_png, capsys, tmp_path):
    grey = tmp_path / "grey.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(grey)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "overlays.png").write_bytes(b"mine")
    for image, extra, message in ((grey, [], "grey.png is a grey image but the model takes colour (RGB) images"),
                                  (broken, [], "broken.png"),
                                  (tmp_path / "missing.png", [], "missing.png does not exist"),
                                  (colour_png, ["--out", kept], "already has files")):
        code, _, err = _explain(capsys, fast_run, image, *(extra or ["--out", tmp_path / "o"]))
        assert code == 2 and message in err and "Traceback" not in err, err
    assert (kept / "overlays.png").read_bytes() == b"mine"


def test_a_run_without_weights_exits_2(fast_run, colour_png, capsys, tmp_path):
    half = tmp_path / "half"
    half.mkdir()
    (half / "config.yaml").write_text((fast_run / "config.yaml").read_text())
    code, _, err = _explain(capsys, half, colour_png, "--out", tmp_path / "o")
    assert code == 2 and "has no model.pt" in err and "Traceback" not in err, err
    assert not (tmp_path / "o").exists() and sorted(p.name for p in half.iterdir()) == ["config.yaml"]
