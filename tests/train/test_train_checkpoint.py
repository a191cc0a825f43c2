"""Checkpoints: weights-only loading, corrupt files, config checks, and exact resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from train_helpers import loaders, same_weights, small_model, weights

from dlcc.errors import ConfigError, DataError
from dlcc.train import BestModel, EarlyStopping, Trainer, fit, load_checkpoint, make_scheduler, save_checkpoint
from dlcc.train.checkpoint import capture_rng_state, restore_rng_state

SCRIPT = Path(__file__).with_name("train_resume_script.py")


def _run(tmp_path, epochs, resume=False, **kw):
    torch.manual_seed(0)
    train, val = loaders(seed=0)
    model = small_model(dropout=0.2)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched, interval = make_scheduler("warmup_cosine", opt, 4, len(train))
    trainer = fit(model, train, val, nn.CrossEntropyLoss(), opt, epochs, scheduler=sched,
                  scheduler_interval=interval, callbacks=[BestModel(), EarlyStopping(patience=50)],
                  device="cpu", out_dir=tmp_path, resume=resume, progress=False,
                  config={"lr": 0.05, "epochs": 4}, **kw)
    return trainer


def test_checkpoint_loads_with_weights_only_and_holds_the_whole_state(tmp_path):
    trainer = _run(tmp_path, 2)
    path = tmp_path / "checkpoints" / "last.pt"
    state = torch.load(path, weights_only=True)
    assert state["format"] == "dlcc-checkpoint" and state["epoch"] == 2
    assert state["global_step"] == trainer.global_step
    assert set(state) >= {"model", "optimizer", "scheduler", "rng", "loaders", "callbacks", "history", "config"}
    assert state["config"] == {"lr": 0.05, "epochs": 4}
    assert set(state["callbacks"]) == {"BestModel", "EarlyStopping"}
    assert state["loaders"]["train"] is not None              # the shuffling generator
    assert len(state["history"]) == 2
    assert torch.load(tmp_path / "checkpoints" / "best.pt", weights_only=True)["epoch"] in (1, 2)


def test_rng_state_round_trip():
    import random

    state = capture_rng_state()
    a = (torch.rand(3), np.random.rand(3), random.random())
    restore_rng_state(state)
    b = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_resume_in_process_gives_the_same_weights_as_one_run(tmp_path):
    full = _run(tmp_path / "full", 4)
    _run(tmp_path / "part", 2)
    torch.manual_seed(999)  # disturb the global RNG: resume must restore it
    np.random.seed(999)
    resumed = _run(tmp_path / "part", 4, resume=True)
    assert same_weights(weights(full.model), weights(resumed.model))
    strip = [{k: v for k, v in h.items() if k not in ("time_s", "train_time_s")} for h in full.history]
    assert strip == [{k: v for k, v in h.items() if k not in ("time_s", "train_time_s")} for h in resumed.history]


def test_resume_without_a_checkpoint_starts_from_epoch_one(tmp_path):
    lines = []
    trainer = _run(tmp_path, 1, resume=True, log=lines.append)
    assert trainer.history[0]["epoch"] == 1
    assert any("no checkpoint" in line for line in lines)


def test_resume_with_other_settings_is_refused(tmp_path):
    _run(tmp_path, 1)
    train, val = loaders()
    model = small_model(dropout=0.2)
    with pytest.raises(ConfigError, match=r"different settings: lr: 0.05 -> 0.1"):
        fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 2,
            device="cpu", out_dir=tmp_path, resume=True, progress=False, config={"lr": 0.1, "epochs": 4})
    bigger = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
    with pytest.raises(ConfigError, match="weights do not fit this model"):
        fit(bigger, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(bigger.parameters(), lr=0.1), 2,
            device="cpu", out_dir=tmp_path, resume=True, progress=False)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"PK\x03\x04garbage"])
def test_corrupt_checkpoint_is_a_clear_error_and_is_left_alone(tmp_path, content):
    path = tmp_path / "checkpoints" / "last.pt"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(DataError, match="corrupt or truncated") as info:
        _run(tmp_path, 2, resume=True)
    assert str(path) in str(info.value) and info.value.fix and len(str(info.value)) < 400
    assert path.read_bytes() == content


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "payload": Path("/etc")}, path)   # a non-tensor object
    with pytest.raises(DataError, match="holds pickled Python objects"):
        load_checkpoint(path)
    save_checkpoint(tmp_path / "plain.pt", {"weights": torch.ones(2)})
    with pytest.raises(ConfigError, match="not a dlcc training checkpoint"):
        model = small_model()
        Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                device="cpu").load_state_dict(load_checkpoint(tmp_path / "plain.pt"))
    with pytest.raises(DataError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_early_stopped_run_stays_stopped_on_resume(tmp_path):
    sequence = [1.0, 2.0, 3.0, 4.0]
    train, val = loaders(n=128)

    def run(epochs, resume):
        model = small_model()
        forced = __import__("dlcc.train", fromlist=["LambdaCallback"]).LambdaCallback(
            on_eval=lambda t, m: m.__setitem__("val_loss", sequence[m["epoch"] - 1]))
        return fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                   epochs, callbacks=[forced, EarlyStopping(patience=2)], device="cpu",
                   out_dir=tmp_path, resume=resume, progress=False)

    assert len(run(4, False).history) == 3
    again = run(4, True)
    assert len(again.history) == 3 and again.stop_reason.startswith("early stopping")


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path):
    """The real thing: kill -9 a training process in epoch 4, resume it, compare bit for bit."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    killed, full = tmp_path / "killed", tmp_path / "full"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(killed), "pause"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "PAUSED", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (killed / "final.pt").exists()
    assert torch.load(killed / "checkpoints" / "last.pt", weights_only=True)["epoch"] == 3

    for out, mode in ((killed, "resume"), (full, "full")):
        done = subprocess.run([sys.executable, str(SCRIPT), str(out), mode], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    a = torch.load(killed / "final.pt", weights_only=True)
    b = torch.load(full / "final.pt", weights_only=True)
    assert a["global_step"] == b["global_step"] == 6 * 15
    assert same_weights(a["model"], b["model"])                        # best weights, restored
    last_a = torch.load(killed / "checkpoints" / "last.pt", weights_only=True)
    last_b = torch.load(full / "checkpoints" / "last.pt", weights_only=True)
    assert same_weights(last_a["model"], last_b["model"])              # last-epoch weights
    drop_time = lambda hist: [{k: v for k, v in h.items() if k not in ("time_s", "train_time_s")} for h in hist]  # noqa: E731
    assert drop_time(a["history"]) == drop_time(b["history"])
