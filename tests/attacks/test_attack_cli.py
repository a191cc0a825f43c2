"""`dlcc attack RUN_DIR`: the accuracy-vs-ε table, curve and example panel for a trained
classifier (its test split, or labelled image folders), and bad input exiting 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from dlcc.cli import main

PNG = b"\x89PNG"


def _attack(capsys, *args):
    code = main(["attack", *map(str, args)])
    return code, *capsys.readouterr()


def test_attack_on_a_signal_classifiers_test_split(mnist1d_run, capsys, tmp_path):
    out = tmp_path / "attack"
    code, stdout, err = _attack(capsys, mnist1d_run, "--eps", "0,0.1,0.3,1", "--n", "300", "--steps", "5",
                                "--out", out)
    assert code == 0, err
    result = json.loads((out / "attack.json").read_text())
    acc = [r["accuracy"] for r in result["rows"]]
    assert [r["eps"] for r in result["rows"]] == [0, 0.1, 0.3, 1] and result["samples"] == 300
    assert acc[0] > 0.3 and acc[-1] < acc[0] / 2 and all(a >= b for a, b in zip(acc, acc[1:]))
    assert result["source"] == "mnist1d test split" and "| 0.3 |" in stdout
    for name in ("accuracy_vs_eps.png", "examples.png"):
        assert (out / name).read_bytes()[:4] == PNG


def _image_folder(root, classes, sizes):
    rng = np.random.default_rng(0)
    for i, (name, size) in enumerate(zip(classes, sizes)):
        (root / name).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


def test_attack_on_labelled_image_folders_resizes_with_a_notice(fast_run, capsys, tmp_path):
    folder = _image_folder(tmp_path / "images", ["cat", "dog", "ship"], [(32, 32), (40, 48), (32, 32)])
    code, stdout, err = _attack(capsys, fast_run, "--images", folder, "--eps", "0,8/255", "--steps", "2",
                                "--out", tmp_path / "a", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["samples"] == 3 and result["rows"][1]["eps"] == pytest.approx(8 / 255)
    assert "1.png is 40x48; resized to the model's 32x32" in err


@pytest.mark.parametrize("args, message", [
    (["--eps", "0,abc"], "'abc' is not a number or a fraction"),
    (["--eps", "8"], "eps=8 is larger than the value range"),
    (["--eps=-1/255"], "eps=-0.00392157 is outside its range"),
    (["--n", "0"], "--n must be at least 1"),
])
def test_bad_values_exit_2(fast_run, capsys, tmp_path, args, message):
    code, _, err = _attack(capsys, fast_run, *args, "--out", tmp_path / "a")
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not (tmp_path / "a").exists()


def test_signal_runs_need_an_explicit_eps(mnist1d_run, capsys, tmp_path):
    code, _, err = _attack(capsys, mnist1d_run, "--out", tmp_path / "a")
    assert code == 2 and "give --eps in the signal's units" in err


def test_bad_images_and_paths_exit_2_and_overwrite_nothing(fast_run, capsys, tmp_path):
    grey = tmp_path / "grey" / "cat"
    grey.mkdir(parents=True)
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(grey / "g.png")
    keep = tmp_path / "kept"
    keep.mkdir()
    (keep / "attack.json").write_text("mine")
    wrong = _image_folder(tmp_path / "wrong", ["zebra"], [(32, 32)])
    for args, message in (([fast_run, "--images", tmp_path / "grey"], "g.png is a grey image but the model takes "
                                                                       "colour (RGB) images"),
                          ([fast_run, "--images", wrong], "subfolders ['zebra'] that are not classes"),
                          ([fast_run, "--out", keep], "already has files"),
                          ([tmp_path / "no-run"], "does not exist")):
        code, _, err = _attack(capsys, *args, "--eps", "0,1/255", *([] if "--out" in map(str, args) else
                                                                    ["--out", tmp_path / "o"]))
        assert code == 2 and message in err and "Traceback" not in err, err
    assert (keep / "attack.json").read_text() == "mine"


def test_a_run_without_weights_exits_2(fast_run, capsys, tmp_path):
    half = tmp_path / "half"
    half.mkdir()
    (half / "config.yaml").write_text((fast_run / "config.yaml").read_text())
    code, _, err = _attack(capsys, half)
    assert code == 2 and "has no model.pt" in err
