"""The NumPy MLP recipes (A1): digits (embedded) and MNIST (real data)."""

from __future__ import annotations

import json

import pytest

from dlcc.cli import main


def _metrics(out):
    return json.loads((out / "metrics.json").read_text())


def test_digits_mlp_numpy_learns_and_writes_its_files(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "digits-mlp-numpy", "--out", str(out), "--no-progress"]) == 0
    metrics = _metrics(out)
    assert metrics["test_accuracy"] > 0.94
    assert metrics["val_accuracy"] > 0.9
    for name in ("config.yaml", "curves.png", "history.json", "weights.npz"):
        assert (out / name).stat().st_size > 0
    assert "test_accuracy" in capsys.readouterr().out


def test_overfit_one_batch_memorises_it(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "digits-mlp-numpy", "--out", str(out), "--no-progress",
                 "--set", "overfit_one_batch=true", "--set", "batch_size=10",
                 "--set", "epochs=200", "--set", "schedule=none"]) == 0
    metrics = _metrics(out)
    assert metrics["train_accuracy"] == 1.0
    assert "test_accuracy" not in metrics


def test_course_preset_uses_the_sigmoid_three_layer_net(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "digits-mlp-numpy", "--out", str(out), "--no-progress",
                 "--set", "preset=course", "--set", "data.val_size=200"]) == 0
    metrics = _metrics(out)
    assert metrics["num_parameters"] == 64 * 200 + 200 + 200 * 100 + 100 + 100 * 10 + 10
    assert metrics["epochs_run"] == 30


@pytest.mark.parametrize("setting, words", [
    ("preset=fancy", "unknown preset 'fancy'"),
    ("optimizer.name=lbfgs", "optimizer.name='lbfgs'"),
    ("schedule=warp", "schedule='warp'"),
    ("data.val_size=0", "data.val_size=0"),
    ("model.activation=swish", "unknown activation 'swish'"),
])
def test_bad_settings_exit_2_and_name_the_value(tmp_path, capsys, setting, words):
    out = tmp_path / "run"
    assert main(["run", "digits-mlp-numpy", "--out", str(out), "--no-progress", "--set", setting]) == 2
    assert words in capsys.readouterr().err


def test_a_diverging_run_stops_with_a_message(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "digits-mlp-numpy", "--out", str(out), "--no-progress",
                 "--set", "optimizer.lr=1e6", "--set", "model.activation=relu"])
    err = capsys.readouterr().err
    assert code == 2
    assert "NaN" in err or "inf" in err
    assert not (out / "metrics.json").exists()


@pytest.mark.slow
@pytest.mark.data
def test_mnist_mlp_numpy_defaults_reach_097(tmp_path, shared_data):
    """Issue 4's bar: default settings on the real MNIST reach test accuracy >= 0.97."""
    out = tmp_path / "run"
    assert main(["run", "mnist-mlp-numpy", "--out", str(out), "--no-progress"]) == 0
    metrics = _metrics(out)
    assert metrics["test_accuracy"] >= 0.97
    assert metrics["val_accuracy"] >= 0.97
