"""`isbi-dncnn` and `isbi-espcn` end to end on real ISBI slices (tiny settings, seconds), and
their bad inputs: σ or scale out of range, a crop bigger than the image -> one message, exit 2,
no traceback, nothing written."""

from __future__ import annotations

import json

import pytest

from dlcc.cli import main

TINY = ["train.steps=2", "train.eval_every=1", "data.patch=16", "data.patches_per_epoch=8", "train.batch_size=4",
        "model.width=4", "data.val_crop=32", "data.test_slices=[29]", "data.val_slices=[28]", "eval.tune_slices=1",
        "eval.tune_crop=32", "eval.images=1", "eval.figure_crop=32"]


def _run(capsys, recipe, out, *settings):
    code = main(["run", recipe, "--out", str(out), "--no-progress", *[a for s in settings for a in ("--set", s)]])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def isbi(shared_data, decoded_cache, monkeypatch):
    """The real slices, decoded once per test session."""
    monkeypatch.setenv("DLCC_CACHE", str(decoded_cache))


@pytest.mark.data
def test_isbi_dncnn_tiny_run_scores_the_model_and_the_baselines(tmp_path, capsys, isbi):
    out = tmp_path / "run"
    code, _, err = _run(capsys, "isbi-dncnn", out, *TINY, "model.depth=3", "restore.sigma=50",
                        "eval.baselines=[gaussian,median]")
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    for key in ("test_psnr", "test_ssim", "test_psnr_noisy", "test_psnr_gaussian", "test_ssim_median",
                "test_psnr_gain", "test_psnr_best_baseline"):
        assert key in m
    assert m["test_psnr_gaussian"] > m["test_psnr_noisy"] + 3          # a blur helps a lot at sigma 50
    assert m["sigma"] == 50 and m["baseline_parameters"]["median"]["parameter"] in (3, 5, 7, 9)
    assert (out / "restorations.png").stat().st_size > 0 and (out / "restoration.json").exists()


@pytest.mark.data
@pytest.mark.parametrize("model", ["espcn", "srcnn"])
def test_isbi_espcn_tiny_run_compares_with_bicubic(tmp_path, capsys, model, isbi):
    out = tmp_path / "run"
    ensemble = model == "espcn"   # one of the two also scores the x8 self-ensemble
    code, _, err = _run(capsys, "isbi-espcn", out, *TINY, "restore.scale=4", f"restore.model={model}",
                        f"eval.self_ensemble={str(ensemble).lower()}")
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    assert m["scale"] == 4 and m["model"] == model and m["test_psnr_bicubic"] > 15
    assert m["test_psnr_gain"] == pytest.approx(m["test_psnr"] - m["test_psnr_bicubic"], abs=1e-3)
    assert ("test_psnr_gain_x8" in m) == ensemble
    if ensemble:
        assert m["test_psnr_gain_x8"] == pytest.approx(m["test_psnr_model_x8"] - m["test_psnr_bicubic"], abs=1e-3)
    assert (out / "restorations.png").exists()


@pytest.mark.parametrize("recipe, setting, fragment", [
    ("isbi-dncnn", "restore.sigma=500", "restore.sigma"),
    ("isbi-dncnn", "restore.sigma=0", "restore.sigma"),
    ("isbi-espcn", "restore.scale=3", "restore.scale takes one of 2, 4"),
    ("isbi-espcn", "restore.scale=0", "restore.scale takes one of 2, 4"),
    ("isbi-dncnn", "data.patch=600", "larger than the ISBI slices (512x512"),
    ("isbi-espcn", "data.val_crop=1024", "larger than the ISBI slices"),
    ("isbi-dncnn", "eval.tune_crop=900", "larger than the ISBI slices"),
    ("isbi-espcn", "data.patch=49", "not a multiple of restore.scale"),
    ("isbi-dncnn", "data.test_slices=[30]", "ISBI 2012 has slices 0..29"),
    ("isbi-dncnn", "eval.baselines=[bm3d]", "unknown denoiser"),
    ("isbi-espcn", "model.mid_layers=-1", "model.mid_layers"),
    ("isbi-espcn", "restore.model=srcnn model.mid_layers=3", "model.mid_layers=3 applies to ESPCN only"),
])
def test_bad_inputs_exit_2_with_one_message_and_write_nothing(tmp_path, capsys, recipe, setting, fragment):
    out = tmp_path / "run"
    code, _, err = _run(capsys, recipe, out, *setting.split())
    assert code == 2
    assert fragment in err and "Traceback" not in err
    assert err.strip().startswith("dlcc: error:") and "fix:" in err
    assert not out.exists()
