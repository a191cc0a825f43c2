"""The NumPy MLP recipes (A1): digits (embedded) and MNIST (real data)."""

from __future__ import annotations

import json
import warnings

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
                 "--set", "train.overfit_one_batch=true", "train.batch_size=10",
                 "train.epochs=200", "train.schedule=none"]) == 0
    metrics = _metrics(out)
    assert metrics["train_accuracy"] == 1.0
    assert "test_accuracy" not in metrics


def test_course_preset_uses_the_sigmoid_three_layer_net(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "digits-mlp-numpy", "--out", str(out), "--no-progress",
                 "--preset", "course", "--set", "data.val_size=200"]) == 0
    metrics = _metrics(out)
    assert metrics["n_params"] == 64 * 200 + 200 + 200 * 100 + 100 + 100 * 10 + 10
    assert metrics["epochs_run"] == 30


@pytest.mark.parametrize("setting, words", [
    ("train.optimizer=lbfgs", "train.optimizer='lbfgs' is not valid"),
    ("train.schedule=warp", "train.schedule='warp' is not valid"),
    ("data.val_size=0", "data.val_size=0 is out of range"),
    ("data.val_size=5000", "data.val_size=5000 must be between 1 and 1436"),
    ("model.activation=swish", "takes one of relu, leaky_relu, sigmoid, tanh, gelu"),
    ("train.batch_size=0", "train.batch_size=0 is out of range"),
])
def test_bad_settings_exit_2_and_name_the_value(tmp_path, capsys, setting, words):
    out = tmp_path / "run"
    assert main(["run", "digits-mlp-numpy", "--out", str(out), "--no-progress", "--set", setting]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not out.exists()


def test_a_diverging_run_stops_with_a_message(tmp_path, capsys):
    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # no raw NumPy overflow warnings on the way
        code = main(["run", "digits-mlp-numpy", "--out", str(out), "--no-progress",
                     "--set", "train.lr=1e6", "model.activation=relu"])
    err = capsys.readouterr().err
    assert code == 2
    assert "training diverged" in err and "NaN" in err and ", batch " in err and "(lr=" in err
    assert len(err.strip().splitlines()) == 2 and "RuntimeWarning" not in err
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.data
def test_mnist_mlp_numpy_defaults_reach_097(tmp_path, shared_data):
    """Issue 4's bar: default settings on the real MNIST reach test accuracy >= 0.97."""
    out = tmp_path / "run"
    assert main(["run", "mnist-mlp-numpy", "--out", str(out), "--no-progress"]) == 0
    metrics = _metrics(out)
    assert metrics["test_accuracy"] >= 0.97
    assert metrics["val_accuracy"] >= 0.97


def test_the_numpy_recipes_log_to_a_tracker_and_close_it(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "digits-mlp-numpy", "--out", str(out), "--no-progress", "--tracker", "jsonl",
                 "--set", "train.epochs=2"]) == 0
    records = [json.loads(line) for line in (out / "tracking.jsonl").read_text().splitlines()]
    kinds = [r["type"] for r in records]
    assert kinds[0] == "start" and kinds[-1] == "end" and "figure" in kinds
    epochs = [r for r in records if r["type"] == "metrics" and "val_accuracy" in r["metrics"]]
    assert len(epochs) >= 2 and any("test_accuracy" in r["metrics"] for r in epochs)
