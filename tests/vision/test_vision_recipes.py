"""The vision recipes through `dlcc run`, with tiny settings: CIFAR-10 classifiers on a real
data slice (and stand-in data), U-Nets on real ISBI / DSB slices and on synthetic shapes."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dlcc.cli import main

PNG = b"\x89PNG"


def _run(capsys, *args):
    code = main(["run", *args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def _metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text())


@pytest.fixture
def real_cifar_slice(monkeypatch, shared_data):
    """A class-balanced slice of the real CIFAR-10 JPEGs (400 train / 200 test), decoded from
    the shared zips without building the full 60,000-image cache."""
    import zipfile

    import dlcc.data
    from dlcc.data import CIFAR10_CLASSES
    from dlcc.data.images import decode_image

    def read(split, per_class):
        path = shared_data / "cifar10" / f"cifar10_{split}_jpg.zip"
        xs, ys = [], []
        with zipfile.ZipFile(path) as archive:
            for label, name in enumerate(CIFAR10_CLASSES):
                for i in range(per_class):
                    xs.append(decode_image(archive.read(f"{split}/{name}/{i:04d}.jpg"), name, mode="RGB"))
                    ys.append(label)
        return np.stack(xs), np.asarray(ys, np.int64)

    data = {"train": read("train", 40), "test": read("test", 20)}
    monkeypatch.setattr(dlcc.data, "load_cifar10", lambda data_dir=None, variant=None: data, raising=False)
    return data


@pytest.mark.data
@pytest.mark.parametrize("recipe, extra", [
    ("cifar10-cnn", []),
    ("cifar10-mobilenet", ["--set", "data.augment.cutout=8"]),
    ("cifar10-resnet", ["--set", "train.schedule=onecycle", "--set", "eval.tta=true"]),
])
def test_cifar_cnn_recipes_on_a_real_slice(tmp_path, capsys, real_cifar_slice, recipe, extra):
    out = tmp_path / "run"
    code, stdout, err = _run(capsys, recipe, "--out", str(out), "--set", "train.epochs=2", "--set", "data.val_size=100",
                             "--set", "train.batch_size=50", *extra)
    assert code == 0, err
    m = _metrics(out)
    for key in ("test_accuracy", "test_loss", "val_accuracy", "train_time_s", "epoch_time_s", "best_epoch",
                "test_per_class_accuracy"):
        assert key in m, sorted(m)
    assert 0 <= m["test_accuracy"] <= 1 and m["epochs_run"] == 2 and m["steps"] == 12
    assert set(m["test_per_class_accuracy"]) == {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                "horse", "ship", "truck"}
    for name in ("curves", "confusion", "top_losses"):
        assert (out / f"{name}.png").read_bytes()[:4] == PNG
    assert torch.load(out / "checkpoints" / "best.pt", weights_only=True)["epoch"] == m["best_epoch"]


@pytest.mark.data
def test_cifar10_fast_learns_on_a_real_slice(tmp_path, capsys, real_cifar_slice):
    out = tmp_path / "run"
    code, _, err = _run(capsys, "cifar10-fast", "--out", str(out), "--set", "train.epochs=6", "--set", "train.batch_size=50",
                        "--set", "model.widths=[16,32,64]", "--set", "whiten.images=400",
                        "--set", "eval.monitor_test=true")
    assert code == 0, err
    m = _metrics(out)
    assert m["steps"] == 48 and m["test_tta"] == "flip" and len(m["test_curve"]) == 6
    assert 0 <= m["test_accuracy_no_tta"] <= 1
    assert m["test_accuracy"] > 0.2            # 10 classes, 400 training images: chance is 0.1
    assert "val_accuracy" not in m             # no validation split by default (as airbench)
    assert (out / "confusion.png").exists() and (out / "top_losses.png").exists()


def test_cifar_recipes_on_stand_in_data_with_budget(tmp_path, capsys, monkeypatch):
    """Random stand-in images: the time budget stops training inside the first epoch, the
    partial epoch is still validated and the test split still reported."""
    import dlcc.data

    rng = np.random.default_rng(0)
    fake = {"train": (rng.integers(0, 256, (300, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 300)),
            "test": (rng.integers(0, 256, (100, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 100))}
    monkeypatch.setattr(dlcc.data, "load_cifar10", lambda data_dir=None, variant=None: fake, raising=False)
    out = tmp_path / "fast"
    code, _, err = _run(capsys, "cifar10-fast", "--out", str(out), "--set", "train.time_budget_s=0.000001",
                        "--set", "train.batch_size=20", "--set", "model.widths=[8,8,8]", "--set", "whiten.images=100",
                        "--set", "data.val_size=50", "--set", "train.select=val_accuracy")
    assert code == 0, err
    m = _metrics(out)
    assert m["steps"] == 1 and "time budget" in m["stop_reason"] and "val_accuracy" in m and "test_accuracy" in m
    out = tmp_path / "cnn"
    code, _, err = _run(capsys, "cifar10-cnn", "--out", str(out), "--set", "train.time_budget_s=0.000001",
                        "--set", "train.clock=cpu", "--set", "data.val_size=50", "--set", "train.batch_size=25",
                        "--set", "model.channels_last=false")
    assert code == 0, err
    m = _metrics(out)
    assert m["steps"] == 1 and m["epochs_run"] == 1 and "val_accuracy" in m


@pytest.mark.parametrize("setting, message", [
    ("train.select=val_accuracy", "needs a validation split"),
    ("data.augment.flip=upside", "data.augment.flip='upside' is not valid"),
    ("train.time_budget_s=-5", "train.time_budget_s=-5.0 is out of range"),
    ("train.clock=sundial", "train.clock='sundial' is not valid"),
    ("model.widths=[8,8]", "needs three widths"),
    ("train.epochs=null", "nothing ends training"),
])
def test_cifar_fast_bad_settings_exit_2(tmp_path, capsys, setting, message):
    code, out, err = _run(capsys, "cifar10-fast", "--out", str(tmp_path / "run"), "--set", setting)
    assert code == 2 and message in err and "Traceback" not in err


# ------------------------------------------------------------------------------ segmentation
@pytest.mark.data
def test_isbi_unet_smoke_on_real_slices(tmp_path, capsys, shared_data):
    out = tmp_path / "run"
    code, _, err = _run(capsys, "isbi-unet", "--out", str(out), "--set", "train.epochs=2", "--set", "data.patch=64",
                        "--set", "data.patches_per_epoch=8", "--set", "train.batch_size=4", "--set", "model.width=4",
                        "--set", "model.depth=2", "--set", "data.test_slices=[28,29]", "--set", "data.val_slices=[27]")
    assert code == 0, err
    m = _metrics(out)
    assert set(m["test_dice_per_image"]) == {"slice28", "slice29"}
    assert 0 <= m["test_dice"] <= 1 and 0 <= m["test_iou"] <= m["test_dice"] and "val_dice" in m
    assert m["steps"] == 4 and m["train_time_s"] > 0
    for name in ("curves", "predictions"):
        assert (out / f"{name}.png").read_bytes()[:4] == PNG


@pytest.mark.data
@pytest.mark.slow
def test_nuclei_unet_smoke_on_real_images(tmp_path, capsys, shared_data):
    out = tmp_path / "run"
    code, _, err = _run(capsys, "nuclei-unet", "--out", str(out), "--set", "train.epochs=1", "--set", "data.patch=64",
                        "--set", "data.patches_per_epoch=8", "--set", "train.batch_size=4", "--set", "model.width=4",
                        "--set", "model.depth=2", "--set", "data.test_size=3", "--set", "data.val_size=2",
                        "--set", "eval.tile=256")
    assert code == 0, err
    m = _metrics(out)
    assert len(m["test_dice_per_image"]) == 3 and 0 <= m["test_dice"] <= 1


def write_shapes(folder: Path, n: int = 8, size: int = 40, mask_suffix: str = "", seed: int = 0):
    """n synthetic grey images (8-bit PNG) and their masks (0/255 PNG) in folder/images, folder/masks."""
    from PIL import Image

    from dlcc.data import make_shapes

    images, masks = make_shapes(n, size=size, seed=seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray((images[i, 0] * 255).astype(np.uint8)).save(folder / "images" / f"cell{i:02d}.png")
        Image.fromarray(masks[i] * 255).save(folder / "masks" / f"cell{i:02d}{mask_suffix}.png")
    return folder / "images", folder / "masks"


_RUNS = itertools.count()


def _folder_run(capsys, tmp_path, images, masks, *extra):
    """A tiny unet-folder run in a new folder tmp_path/run<N> (also written for failed runs)."""
    out = tmp_path / f"run{next(_RUNS)}"
    return _run(capsys, "unet-folder", "--out", str(out), "--set", f"data.images={images}",
                "--set", f"data.masks={masks}", "--set", "train.epochs=2", "--set", "data.patch=32",
                "--set", "data.patches_per_epoch=8", "--set", "train.batch_size=4", "--set", "model.width=4",
                "--set", "model.depth=2", *extra)


def test_unet_folder_on_synthetic_shapes(tmp_path, capsys):
    images, masks = write_shapes(tmp_path / "data", n=10)
    (images / "notes.txt").write_text("not an image")
    code, stdout, err = _folder_run(capsys, tmp_path, images, masks)
    assert code == 0, err
    run = next(tmp_path.glob("run*"))
    m = _metrics(run)
    assert len(m["pairs"]["test"]) == 2 and len(m["pairs"]["val"]) == 1 and len(m["pairs"]["train"]) == 7
    assert 0 <= m["test_dice"] <= 1 and (run / "predictions.png").exists()
    assert "skipped" in stdout and "notes.txt" in stdout


def test_unet_folder_learns_shapes(tmp_path, capsys):
    images, masks = write_shapes(tmp_path / "data", n=24, size=32)
    code, _, err = _run(capsys, "unet-folder", "--out", str(tmp_path / "run"), "--set", f"data.images={images}",
                        "--set", f"data.masks={masks}", "--set", "train.epochs=6", "--set", "data.patch=32",
                        "--set", "data.patches_per_epoch=64", "--set", "train.batch_size=8", "--set", "model.width=8",
                        "--set", "model.depth=2", "--set", "train.lr=0.01")
    assert code == 0, err
    m = _metrics(tmp_path / "run")
    assert m["test_dice"] > 0.7, m["test_dice_per_image"]     # everything-foreground scores about 0.3


def test_unet_folder_mixed_sizes_16bit_and_rgba(tmp_path, capsys):
    """Images of different sizes, a 16-bit grey PNG and an RGBA PNG (converted to grey)."""
    from PIL import Image

    images, masks = write_shapes(tmp_path / "data", n=6, size=40)
    big = (np.random.default_rng(1).random((52, 70)) * 65535).astype(np.uint16)
    Image.fromarray(big).save(images / "wide.png")
    Image.fromarray(((big > 30000) * 255).astype(np.uint8)).save(masks / "wide.png")
    rgba = np.zeros((36, 36, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 255
    Image.fromarray(rgba, "RGBA").save(images / "colour.png")
    Image.fromarray(np.eye(36, dtype=np.uint8) * 255).save(masks / "colour.png")
    code, _, err = _folder_run(capsys, tmp_path, images, masks, "--set", "data.channels=1")
    assert code == 0, err
    assert 0 <= _metrics(next(tmp_path.glob("run*")))["test_dice"] <= 1


# ---------------------------------------------------------------------- unet-folder bad input
def _bad(capsys, tmp_path, images, masks, *extra):
    code, out, err = _folder_run(capsys, tmp_path, images, masks, *extra)
    assert code == 2, (out, err)
    assert "Traceback" not in err and "fix:" in err
    return err


def test_unet_folder_needs_both_folders(tmp_path, capsys):
    code, _, err = _run(capsys, "unet-folder", "--out", str(tmp_path / "run"))
    assert code == 2 and "data.images" in err and "--set data.images=" in err and "Traceback" not in err


def test_unet_folder_missing_and_empty_folders(tmp_path, capsys):
    images, masks = write_shapes(tmp_path / "data", n=3)
    err = _bad(capsys, tmp_path, tmp_path / "nowhere", masks)
    assert str(tmp_path / "nowhere") in err
    (tmp_path / "empty").mkdir()
    err = _bad(capsys, tmp_path, images, tmp_path / "empty")
    assert "no image files" in err and str(tmp_path / "empty") in err


def test_unet_folder_image_without_mask(tmp_path, capsys):
    images, masks = write_shapes(tmp_path / "data", n=4)
    (masks / "cell02.png").unlink()
    before = sorted(p.name for p in images.iterdir())
    err = _bad(capsys, tmp_path, images, masks)
    assert "cell02.png" in err and "no mask" in err
    assert sorted(p.name for p in images.iterdir()) == before      # user files untouched


def test_unet_folder_mask_size_mismatch(tmp_path, capsys):
    from PIL import Image

    images, masks = write_shapes(tmp_path / "data", n=4)
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(masks / "cell01.png")
    err = _bad(capsys, tmp_path, images, masks)
    assert "cell01.png" in err and "10×12" in err


def test_unet_folder_mixed_channels_and_broken_file(tmp_path, capsys):
    from PIL import Image

    images, masks = write_shapes(tmp_path / "data", n=4)
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(images / "cell03.png")
    err = _bad(capsys, tmp_path, images, masks)
    assert "mixes greyscale" in err and "data.channels" in err
    (images / "cell03.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    err = _bad(capsys, tmp_path, images, masks)
    assert "cell03.png" in err


def test_unet_folder_too_few_pairs_and_empty_masks(tmp_path, capsys):
    images, masks = write_shapes(tmp_path / "one", n=1)
    err = _bad(capsys, tmp_path, images, masks)
    assert "at least 2" in err
    from PIL import Image

    images, masks = write_shapes(tmp_path / "blank", n=4)
    for p in masks.iterdir():
        Image.fromarray(np.zeros((40, 40), np.uint8)).save(p)
    err = _bad(capsys, tmp_path, images, masks)
    assert "empty" in err


def test_unet_folder_bad_settings(tmp_path, capsys):
    images, masks = write_shapes(tmp_path / "data", n=3)
    err = _bad(capsys, tmp_path, images, masks, "--set", "data.channels=2")
    assert "data.channels" in err
    err = _bad(capsys, tmp_path, images, masks, "--set", "model.name=vgg16")
    assert "model.name" in err
    err = _bad(capsys, tmp_path, images, masks, "--set", "data.patch=4")
    assert "data.patch" in err
