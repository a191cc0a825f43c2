"""The PyTorch recipes (cifar10-mlp, mnist1d-mlp, mnist1d-cnn) through `dlcc run`; run
directories, --resume, presets and the bad inputs of `dlcc run`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from dlcc.cli import main
from dlcc.recipes import RunContext, get_recipe
from dlcc.train import Callback

KEYS = {"test_accuracy", "test_loss", "val_accuracy", "val_loss", "train_time_s", "best_epoch"}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)   # small models: one thread is fastest, and the machine is shared
    yield
    torch.set_num_threads(before)


@pytest.fixture
def fake_cifar(monkeypatch):
    """Random CIFAR-shaped data (600 train / 200 test) in place of the real loader."""
    import dlcc.data

    rng = np.random.default_rng(0)

    def load_cifar10(data_dir=None, variant=None):
        return {"train": (rng.integers(0, 256, (600, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 600)),
                "test": (rng.integers(0, 256, (200, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 200))}

    monkeypatch.setattr(dlcc.data, "load_cifar10", load_cifar10, raising=False)


def _run(capsys, *args):
    code = main(["run", *args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def _check_run_dir(out: Path, epochs: int):
    metrics = json.loads((out / "metrics.json").read_text())
    assert KEYS <= set(metrics), sorted(metrics)
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["val_loss"] > 0
    assert metrics["epochs_run"] == epochs
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert state["epoch"] == epochs and len(state["history"]) == epochs
    assert torch.load(out / "checkpoints" / "best.pt", weights_only=True)["epoch"] == metrics["best_epoch"]
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["config"]["train"]["epochs"] == epochs
    assert (out / "model.pt").is_file()
    return metrics


@pytest.mark.parametrize("recipe", ["mnist1d-mlp", "mnist1d-cnn"])
def test_mnist1d_recipes_smoke(tmp_path, capsys, recipe):
    out = tmp_path / "run"
    code, stdout, err = _run(capsys, recipe, "--out", str(out), "--set", "train.epochs=2")
    assert code == 0, err
    assert "test_accuracy" in stdout and "epoch 2/2" in stdout
    metrics = _check_run_dir(out, 2)
    assert metrics["test_accuracy"] > 0.2          # far above chance (0.1) after two epochs


def test_cifar10_mlp_smoke_on_stand_in_data(tmp_path, capsys, fake_cifar):
    out = tmp_path / "run"
    code, _, err = _run(capsys, "cifar10-mlp", "--out", str(out), "--set", "train.epochs=2",
                        "data.val_size=100", "model.hidden=[32]", "train.schedule=onecycle",
                        "train.grad_accum_steps=2", "train.clip_grad_norm=1.0", "train.lr_find=true")
    assert code == 0, err
    _check_run_dir(out, 2)
    assert (out / "lr_find.png").exists()


def test_course_model_and_defaults():
    d = get_recipe("cifar10-mlp").defaults()
    assert d.model.hidden == [300, 200, 200, 200, 100]
    assert (d.train.batch_size, d.train.lr, d.train.momentum, d.data.val_size) == (256, 0.05, 0.9, 3000)
    assert d.train.optimizer == "sgd" and d.data.hflip


def test_tracker_option_is_honoured(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = _run(capsys, "mnist1d-mlp", "--out", str(out), "--set", "train.epochs=2", "--tracker", "tb,jsonl")
    assert code == 0, err
    records = [json.loads(line) for line in (out / "tracking.jsonl").read_text().splitlines()]
    kinds = {r["type"] for r in records}
    assert {"params", "metrics", "figure"} <= kinds
    epoch_logs = [r for r in records if r["type"] == "metrics" and "val_accuracy" in r["metrics"]]
    assert len(epoch_logs) >= 2
    assert any("test_accuracy" in r["metrics"] for r in records if r["type"] == "metrics")
    assert records[-1]["type"] == "end"                  # closed
    assert list(out.glob("events.out.tfevents*")) or list(out.rglob("events.out.tfevents*"))


def test_resume_of_a_finished_run_reports_the_same_metrics(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(capsys, "mnist1d-mlp", "--out", str(out), "--set", "train.epochs=2")[0] == 0
    first = json.loads((out / "metrics.json").read_text())
    code, stdout, err = _run(capsys, "mnist1d-mlp", "--out", str(out), "--resume")
    assert code == 0, err
    again = json.loads((out / "metrics.json").read_text())
    for key in ("test_accuracy", "test_loss", "val_accuracy", "best_epoch", "epochs_run"):
        assert again[key] == first[key]
    assert "resumed from" in stdout


def test_extra_callbacks_and_skipping_the_test_split(tmp_path):
    seen = []

    class Recorder(Callback):
        def on_eval(self, trainer, metrics):
            seen.append((metrics["epoch"], metrics["val_accuracy"]))

    recipe = get_recipe("mnist1d-cnn")
    cfg = recipe.make_config(["train.epochs=2"])
    ctx = RunContext(out_dir=tmp_path, device="cpu", progress=False, log=lambda line: None,
                     callbacks=[Recorder()], evaluate_test=False)
    metrics = recipe.run(cfg, ctx)
    assert [e for e, _ in seen] == [1, 2]
    assert not any(k.startswith("test_") for k in metrics)
    assert metrics["val_accuracy"] == pytest.approx(max(acc for _, acc in seen))


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("args, fragment", [
    (["--set", "epochs=5"], "unknown setting 'epochs'"),
    (["--set", "train.epoch=5"], "did you mean train.epochs?"),
    (["--set", "train.epochs=abc"], "train.epochs takes whole number"),
    (["--set", "train.lr=fast"], "train.lr takes number"),
    (["--set", "train.optimizer=rmsprop"], "train.optimizer takes one of sgd, adam, adamw"),
    (["--set", "optimizer=5"], "did you mean train.optimizer?"),
    (["--set", "train.schedule=cosyne"], "takes one of none, step, cosine"),
    (["--set", "train.epochs=0"], "it must be >= 1"),
    (["--set", "train.select=test_accuracy"], "selected on a validation metric"),
    (["--set", "train.select=val_dice"], "not a validation metric of this run"),
    (["--set", "model.dropout=1.5"], "it must be < 1"),
    (["--set", "model.hidden=abc"], "item 1, abc, is not a whole number"),
    (["--set", "model.hidden=[64,"], "not a complete list"),
    (["--set", "train.epochs=2", "train.steps=3"], "both set"),
    (["--set", "preset=course"], "presets are chosen with --preset"),
    (["--preset", "course"], "has no preset 'course'"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--tracker", "tb,sundial"], "unknown tracker 'sundial'"),
])
def test_bad_settings_exit_2_with_a_message_and_write_nothing(tmp_path, capsys, args, fragment):
    out = tmp_path / "run"
    code, _, err = _run(capsys, "mnist1d-mlp", "--out", str(out), *args)
    assert code == 2
    assert fragment in err and "Traceback" not in err
    assert not out.exists()                      # nothing written, so the corrected command can run


def test_cuda_without_a_gpu_is_refused(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    code, _, err = _run(capsys, "digits-mlp-numpy", "--out", str(tmp_path / "run"), "--device", "cuda")
    assert code == 2 and "no CUDA GPU" in err and not (tmp_path / "run").exists()


def test_a_run_that_fails_before_its_first_checkpoint_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = _run(capsys, "unet-folder", "--out", str(out))      # no folders given
    assert code == 2 and "needs a folder of images" in err
    assert not out.exists()
    empty = tmp_path / "mine"
    empty.mkdir()
    assert _run(capsys, "unet-folder", "--out", str(empty))[0] == 2
    assert empty.is_dir() and not any(empty.iterdir())                   # the user's folder stays


def test_existing_non_empty_out_dir_is_refused_and_left_untouched(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "results.txt").write_text("precious")
    code, _, err = _run(capsys, "mnist1d-cnn", "--out", str(out), "--set", "train.epochs=1")
    assert code == 2
    assert "already holds files" in err and "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["results.txt"]
    assert (out / "results.txt").read_text() == "precious"


def test_corrupt_checkpoint_on_resume_exits_2_and_is_kept(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(capsys, "mnist1d-mlp", "--out", str(out), "--set", "train.epochs=1")[0] == 0
    last = out / "checkpoints" / "last.pt"
    last.write_bytes(b"garbage")
    metrics_before = (out / "metrics.json").read_text()
    code, _, err = _run(capsys, "mnist1d-mlp", "--out", str(out), "--resume")
    assert code == 2 and "corrupt or truncated" in err and str(last) in err and "Traceback" not in err
    assert len(err) < 400                                  # one line and a fix, no torch internals
    assert last.read_bytes() == b"garbage"
    assert (out / "metrics.json").read_text() == metrics_before


def _config(out: Path) -> dict:
    return yaml.safe_load((out / "config.yaml").read_text())


def test_resume_extends_epochs_and_refuses_other_changes_untouched(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(capsys, "mnist1d-cnn", "--out", str(out), "--set", "train.epochs=1", "train.schedule=none")[0] == 0
    before = (out / "config.yaml").read_text()
    code, _, err = _run(capsys, "--resume", "--out", str(out), "--set", "train.lr=0.5", "model.dropout=0.1")
    assert code == 2 and "train.lr: 0.01 -> 0.5" in err and "model.dropout" in err
    assert (out / "config.yaml").read_text() == before                   # refused: nothing changed
    code, _, err = _run(capsys, "--resume", "--out", str(out), "--set", "train.epochs=0")
    assert code == 2 and (out / "config.yaml").read_text() == before
    code, stdout, err = _run(capsys, "--resume", "--out", str(out), "--set", "train.epochs=2")   # no recipe name
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and "epoch 2/2" in stdout
    recorded = _config(out)
    assert recorded["config"]["train"]["epochs"] == 2
    assert recorded["resumed"][-1]["overrides"] == ["train.epochs=2"]


def test_resume_refuses_to_bend_a_length_dependent_schedule(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(capsys, "mnist1d-cnn", "--out", str(out), "--set", "train.epochs=1")[0] == 0   # onecycle
    code, _, err = _run(capsys, "mnist1d-cnn", "--resume", "--out", str(out), "--set", "train.epochs=2")
    assert code == 2 and "train.schedule=onecycle was laid out for train.epochs=1" in err


def test_resume_refuses_another_recipe_a_missing_dir_and_a_non_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(capsys, "mnist1d-mlp", "--out", str(out), "--set", "train.epochs=1")[0] == 0
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, _, err = _run(capsys, "mnist1d-cnn", "--resume", "--out", str(out))
    assert code == 2 and "holds a run of recipe 'mnist1d-mlp', not 'mnist1d-cnn'" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files
    code, _, err = _run(capsys, "mnist1d-mlp", "--resume", "--out", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in err and not (tmp_path / "nowhere").exists()
    other = tmp_path / "other"
    other.mkdir()
    code, _, err = _run(capsys, "--resume", "--out", str(other))
    assert code == 2 and "not a dlcc run directory" in err
    code, _, err = _run(capsys, "digits-mlp-numpy", "--out", str(tmp_path / "np"), "--set", "train.epochs=1")
    assert code == 0
    code, _, err = _run(capsys, "--resume", "--out", str(tmp_path / "np"))
    assert code == 2 and "cannot be resumed" in err


def test_presets_are_overlays_that_set_overrides(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = _run(capsys, "digits-mlp-numpy", "--preset", "course", "--set", "train.epochs=2",
                        "--out", str(out))
    assert code == 0, err
    recorded = _config(out)
    assert recorded["preset"] == "course"
    assert recorded["config"]["train"]["epochs"] == 2                    # --set wins over the preset
    assert recorded["config"]["model"]["activation"] == "sigmoid"        # the rest of the preset ran
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2


def test_show_lists_keys_with_help(capsys):
    code, out, _ = _run(capsys, "cifar10-fast", "--show", "--set", "train.amp=off", "train.compile=false")
    assert code == 0
    assert "amp: 'off'" in out and "compile: false" in out and "# mixed precision" in out
    assert "epochs: 8" in out and "[whole number >= 1, or null]" in out


def test_load_run_gives_back_the_model_and_its_artifacts(tmp_path, capsys):
    from dlcc.recipes import load_run

    out = tmp_path / "run"
    assert _run(capsys, "mnist1d-cnn", "--out", str(out), "--set", "train.epochs=1")[0] == 0
    run = load_run(out)
    assert run.recipe.name == "mnist1d-cnn" and run.config.train.epochs == 1
    assert run.labels == [str(i) for i in range(10)] and run.preprocessing == {"shape": [40]}
    best = torch.load(out / "checkpoints" / "best.pt", weights_only=True)["model"]
    assert all(torch.equal(best[k], v) for k, v in run.model.state_dict().items())
    assert not run.model.training and run.metrics["n_params"] == sum(p.numel() for p in run.model.parameters())
    (out / "model.pt").unlink()
    with pytest.raises(Exception, match="has not finished"):
        load_run(out)


# ------------------------------------------------------------------------------ real data
@pytest.mark.data
def test_cifar10_mlp_on_real_data_smoke(tmp_path, capsys, shared_data, decoded_cache, monkeypatch):
    monkeypatch.setenv("DLCC_CACHE", str(decoded_cache))
    out = tmp_path / "run"
    code, _, err = _run(capsys, "cifar10-mlp", "--out", str(out), "--set", "train.epochs=1",
                        "data.subset=3000", "data.val_size=500")
    assert code == 0, err
    metrics = _check_run_dir(out, 1)
    assert metrics["n_params"] == 1_083_610
    # ten SGD steps do not teach this deep MLP much; learning is checked by the slow test
    assert np.isfinite(metrics["train_loss"]) and 0.0 <= metrics["test_accuracy"] <= 1.0


@pytest.mark.data
@pytest.mark.slow
def test_cifar10_mlp_beats_the_course_target(tmp_path, capsys, shared_data, decoded_cache, monkeypatch):
    """The course's target, test accuracy > 0.5, with OneCycle in 8 epochs (about 1-3 minutes
    on 2 CPU cores; the default 12 constant-LR epochs reach about 0.56 in about twice that)."""
    monkeypatch.setenv("DLCC_CACHE", str(decoded_cache))
    out = tmp_path / "run"
    code, _, err = _run(capsys, "cifar10-mlp", "--out", str(out), "--set", "train.epochs=8",
                        "train.schedule=onecycle", "train.lr=0.2")
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.5, metrics


@pytest.mark.slow
def test_dlcc_run_killed_and_resumed_matches_an_uninterrupted_run(tmp_path):
    """`dlcc run` killed with SIGKILL after a checkpoint, then `--resume`: same weights, same metrics."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "dlcc", "run", "mnist1d-mlp", "--no-progress"]
    killed, full = tmp_path / "killed", tmp_path / "full"
    proc = subprocess.Popen([*cmd, "--out", str(killed), "--set", "train.epochs=6"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            try:
                epoch = torch.load(killed / "checkpoints" / "last.pt", weights_only=True)["epoch"]
            except Exception:  # not written yet (or being renamed into place)
                continue
            if epoch >= 2:
                os.kill(proc.pid, signal.SIGKILL)
                break
        if proc.wait(timeout=60) != -signal.SIGKILL:
            pytest.skip("the run finished before it could be killed")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (killed / "metrics.json").exists()
    for args in (["--out", str(killed), "--resume"], ["--out", str(full), "--set", "train.epochs=6"]):
        done = subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
    a = json.loads((killed / "metrics.json").read_text())
    b = json.loads((full / "metrics.json").read_text())
    for key in ("test_accuracy", "test_loss", "val_accuracy", "val_loss", "best_epoch", "train_loss"):
        assert a[key] == b[key], key
    wa = torch.load(killed / "checkpoints" / "last.pt", weights_only=True)["model"]
    wb = torch.load(full / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
