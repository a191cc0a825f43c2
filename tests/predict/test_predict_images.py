"""`dlcc predict` on images: classifiers (parity with the recipe's test accuracy, 16-bit / RGBA /
grey inputs, vectors), U-Nets (parity with the recipe's per-image Dice), exported models, and
bad input (exit 2, one line, nothing overwritten)."""

from __future__ import annotations

import csv
import importlib.util
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlcc.cli import main


def dlcc(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits") / "run"
    assert main(["run", "digits-mlp-numpy", "--set", "train.epochs=5", "--out", str(out), "--no-progress"]) == 0
    return out


def test_classifier_on_png_files_matches_its_test_accuracy(digits_run, tmp_path, capsys):
    from dlcc.data import load_digits

    x, y = load_digits()["test"]                                      # floats 0..1, as the recipe trains
    folder = tmp_path / "digits"
    folder.mkdir()
    for i, img in enumerate(x):
        Image.fromarray(np.round(img * 255).astype(np.uint8)).save(folder / f"{i:03d}_{y[i]}.png")
    (folder / "README.txt").write_text("labels are in the file names")
    code, out, err = dlcc(capsys, "predict", digits_run, folder, "--out", tmp_path / "p")
    assert code == 0, err
    assert "skipped" in out and "README.txt" in out
    got = rows(tmp_path / "p" / "predictions.csv")
    assert len(got) == len(y) and set(got[0]) >= {"file", "class", "probability", "p_0", "p_9"}
    accuracy = np.mean([r["class"] == Path(r["file"]).stem.split("_")[1] for r in got])
    recorded = json.loads((digits_run / "metrics.json").read_text())["test_accuracy"]
    assert abs(accuracy - recorded) <= 2 / len(y)                 # 8-bit PNGs round the 0..1 values
    assert abs(sum(float(r[f"p_{k}"]) for k in range(10) for r in got[:1]) - 1) < 1e-5
    assert (tmp_path / "p" / "contact_sheet.png").read_bytes()[:4] == b"\x89PNG"


def test_16_bit_rgba_and_larger_images_are_converted(digits_run, tmp_path, capsys):
    from dlcc.data import load_digits

    img = load_digits()["test"][0][5]
    folder = tmp_path / "kinds"
    folder.mkdir()
    Image.fromarray(np.round(img * 255).astype(np.uint8)).save(folder / "a_grey8.png")
    Image.fromarray(np.round(img * 65535).astype(np.uint16)).save(folder / "b_grey16.png")
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = np.round(img * 255).astype(np.uint8)[..., None], 255
    Image.fromarray(rgba, "RGBA").save(folder / "c_rgba.png")
    big = Image.fromarray(np.round(img * 255).astype(np.uint8)).resize((64, 64), Image.NEAREST)
    big.save(folder / "d_big.jpg", quality=95)
    assert dlcc(capsys, "predict", digits_run, folder, "--out", tmp_path / "p")[0] == 0
    got = rows(tmp_path / "p" / "predictions.csv")
    assert len({r["class"] for r in got}) == 1
    p = [float(r["probability"]) for r in got]
    assert abs(p[0] - p[1]) < 1e-3 and abs(p[0] - p[2]) < 1e-6


@pytest.mark.slow
def test_vector_classifier_takes_npy_rows(tmp_path, capsys):
    run = tmp_path / "run"
    assert dlcc(capsys, "run", "mnist1d-mlp", "--set", "train.epochs=1", "--out", run, "--no-progress")[0] == 0
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((7, 40)).astype(np.float32))
    code, _, err = dlcc(capsys, "predict", run, tmp_path / "x.npy", "--out", tmp_path / "p")
    assert code == 0, err
    assert len(rows(tmp_path / "p" / "predictions.csv")) == 7
    np.save(tmp_path / "bad.npy", np.zeros((3, 12), np.float32))
    code, _, err = dlcc(capsys, "predict", run, tmp_path / "bad.npy", "--out", tmp_path / "q")
    assert code == 2 and "takes rows of 40" in err


@pytest.mark.slow
def test_cifar_classifier_and_its_onnx_export_agree_with_the_recipe(tmp_path, capsys, monkeypatch):
    pytest.importorskip("onnxruntime")
    from dlcc import data as dlcc_data

    rng = np.random.default_rng(0)
    fake = {"train": (rng.integers(0, 256, (200, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 200)),
            "test": (rng.integers(0, 256, (60, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 60))}
    monkeypatch.setattr(dlcc_data, "load_cifar10", lambda data_dir=None, variant=None: fake, raising=False)
    run = tmp_path / "run"
    code, _, err = dlcc(capsys, "run", "cifar10-cnn", "--out", run, "--set", "train.epochs=1", "--set",
                        "data.val_size=50", "--set", "train.batch_size=50", "--set", "model.channels_last=false",
                        "--no-progress")
    assert code == 0, err
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, (img, label) in enumerate(zip(*fake["test"])):
        Image.fromarray(img).save(folder / f"{i:02d}_{label}.png")
    classes = list(dlcc_data.CIFAR10_CLASSES)
    assert dlcc(capsys, "predict", run, folder, "--out", tmp_path / "p")[0] == 0
    got = rows(tmp_path / "p" / "predictions.csv")
    accuracy = np.mean([classes.index(r["class"]) == int(Path(r["file"]).stem.split("_")[1]) for r in got])
    assert accuracy == pytest.approx(json.loads((run / "metrics.json").read_text())["test_accuracy"], abs=1e-9)
    assert dlcc(capsys, "export", run, "--out", tmp_path / "cnn.onnx")[0] == 0
    assert dlcc(capsys, "predict", tmp_path / "cnn.onnx", folder, "--out", tmp_path / "q")[0] == 0
    exported = rows(tmp_path / "q" / "predictions.csv")
    assert [r["class"] for r in exported] == [r["class"] for r in got]
    assert max(abs(float(a["probability"]) - float(b["probability"])) for a, b in zip(got, exported)) < 1e-4


# ------------------------------------------------------------------------------ segmentation
@pytest.mark.slow
def test_unet_masks_and_dice_match_the_recipe(tmp_path, capsys):
    from dlcc.data import make_shapes

    images, masks = make_shapes(12, size=48, seed=3)
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in range(12):
        Image.fromarray((images[i, 0] * 255).astype(np.uint8)).save(tmp_path / "images" / f"cell{i:02d}.png")
        Image.fromarray(masks[i] * 255).save(tmp_path / "masks" / f"cell{i:02d}.png")
    run = tmp_path / "run"
    code, _, err = dlcc(capsys, "run", "unet-folder", "--out", run, "--set", f"data.images={tmp_path / 'images'}",
                        "--set", f"data.masks={tmp_path / 'masks'}", "--set", "train.epochs=3", "--set",
                        "data.patch=32", "--set", "data.patches_per_epoch=16", "--set", "train.batch_size=4",
                        "--set", "model.width=4", "--set", "model.depth=2", "--set", "eval.tile=32",
                        "--set", "eval.overlap=8", "--no-progress")
    assert code == 0, err
    metrics = json.loads((run / "metrics.json").read_text())
    test = [Path(n).stem for n in metrics["pairs"]["test"]]
    code, out, err = dlcc(capsys, "predict", run, *[tmp_path / "images" / f"{n}.png" for n in test],
                          "--masks", tmp_path / "masks", "--out", tmp_path / "p")
    assert code == 0, err
    got = {Path(r["image"]).stem: float(r["dice"]) for r in rows(tmp_path / "p" / "metrics.csv")}
    recorded = {Path(k).stem: v for k, v in metrics["test_dice_per_image"].items()}
    assert got == pytest.approx(recorded, abs=1e-4)          # tiled like the recipe's test (32 px tiles)
    summary = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert summary["mean_dice"] == pytest.approx(metrics["test_dice"], abs=1e-4)
    mask = np.asarray(Image.open(tmp_path / "p" / f"{test[0]}_mask.png"))
    assert mask.shape == (48, 48) and set(np.unique(mask)) <= {0, 255}
    assert np.asarray(Image.open(tmp_path / "p" / f"{test[0]}_overlay.png")).shape == (48, 48, 3)
    if importlib.util.find_spec("onnxruntime"):                  # the exported U-Net gives the same masks
        assert dlcc(capsys, "export", run, "--out", tmp_path / "unet.onnx")[0] == 0
        assert dlcc(capsys, "predict", tmp_path / "unet.onnx", *[tmp_path / "images" / f"{n}.png" for n in test],
                    "--out", tmp_path / "e")[0] == 0
        for n in test:
            same = np.asarray(Image.open(tmp_path / "e" / f"{n}_mask.png")) == np.asarray(
                Image.open(tmp_path / "p" / f"{n}_mask.png"))
            assert same.mean() > 0.999
    (tmp_path / "small_mask").mkdir()
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "small_mask" / "x.png")
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(tmp_path / "x.png")
    code, _, err = dlcc(capsys, "predict", run, tmp_path / "x.png", "--masks", tmp_path / "small_mask",
                        "--out", tmp_path / "q")
    assert code == 2 and "not the size of its image" in err and not (tmp_path / "q").exists()


# ------------------------------------------------------------------------------ bad input
def huge_png_header(path: Path, width: int, height: int) -> None:
    """A PNG whose header says width x height, with a tiny (invalid) body: what a check must
    refuse before decoding."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10))
                     + chunk(b"IEND", b""))


def test_bad_images_exit_2_with_one_line(digits_run, tmp_path, capsys):
    good = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    Image.fromarray(good).save(tmp_path / "ok.png")
    Image.fromarray(good).save(tmp_path / "ok.jpg")
    (tmp_path / "cut.png").write_bytes((tmp_path / "ok.png").read_bytes()[:200])
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "ok.jpg").read_bytes()[:300])
    (tmp_path / "fake.png").write_text("this is text, not a PNG")
    (tmp_path / "notes.txt").write_text("text")
    huge_png_header(tmp_path / "huge.png", 20_000, 20_000)
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        ("cut.png", "truncated"), ("cut.jpg", "truncated"), ("fake.png", "not a readable image"),
        ("notes.txt", "not an image file"), ("huge.png", "20,000 x 20,000 pixels (400 MP)"),
        ("empty", "no image files"), ("nothing.png", "no such file"),
    ]
    for i, (name, message) in enumerate(cases):
        code, _, err = dlcc(capsys, "predict", digits_run, tmp_path / name, "--out", tmp_path / f"o{i}")
        assert code == 2, (name, err)
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2, (name, err)
        assert not (tmp_path / f"o{i}").exists() or name.startswith("cut")
    code, _, err = dlcc(capsys, "predict", digits_run, tmp_path / "ok.png", "--max-pixels", 100, "--out",
                        tmp_path / "o-max")
    assert code == 2 and "--max-pixels" in err


def test_wrong_model_for_the_input_and_existing_outputs(digits_run, tmp_path, capsys, shared_data):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    code, _, err = dlcc(capsys, "predict", digits_run, shared_data / "mitbih" / "100.hea", "--out", tmp_path / "x")
    assert code == 2 and "is an ECG recording" in err and "classification model" in err
    code, _, err = dlcc(capsys, "predict", tmp_path / "not-a-run", tmp_path / "a.png", "--out", tmp_path / "x")
    assert code == 2 and "does not exist" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, err = dlcc(capsys, "predict", plain, tmp_path / "a.png", "--out", tmp_path / "x")
    assert code == 2 and "not a dlcc run directory" in err
    # the images' own folder as --out: refused, the image untouched
    before = (tmp_path / "a.png").read_bytes()
    code, _, err = dlcc(capsys, "predict", digits_run, tmp_path / "a.png", "--out", tmp_path)
    assert code == 2 and "not empty" in err and (tmp_path / "a.png").read_bytes() == before
    code, _, err = dlcc(capsys, "predict", digits_run, "--out", tmp_path / "y")
    assert code == 2 and "no inputs" in err
