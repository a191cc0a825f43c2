"""Several processes (`dlcc run --nproc`, gloo on the CPU): the same weights as one process at
the combined batch, a killed rank reported and resumed exactly, and the bad inputs of launching."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dlcc.cli import main
from dlcc.train.distributed import ShardedBatches

SGD = ["model.dropout=0", "train.optimizer=sgd", "train.lr=0.05"]     # linear in the gradient: no Adam
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _dlcc(*args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcc", "run", *args, "--no-progress"], env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def _weights(out: Path) -> dict:
    return torch.load(out / "model.pt", weights_only=True)["model"]


def test_sharded_batches_split_a_loader_like_one_big_batch():
    loader = [torch.arange(i * 2, i * 2 + 2) for i in range(7)]          # 7 batches of 2

    class L(list):
        generator = "g"

    sharded = [list(ShardedBatches(L(loader), r, 2)) for r in (0, 1)]
    assert [len(s) for s in sharded] == [3, 3]                          # the 7th batch is dropped
    assert torch.equal(torch.cat([sharded[0][1], sharded[1][1]]), torch.arange(4, 8))
    assert ShardedBatches(L(loader), 0, 2).generator == "g"
    assert len(ShardedBatches(L(loader), 0, 2, drop_remainder=False)) == 4
    with pytest.raises(Exception, match="fewer than the 3 processes"):
        ShardedBatches(L(loader[:2]), 0, 3)


def test_sharded_batches_advance_a_lazy_loader_equally_on_every_rank():
    """A loader that draws as it goes (RandomWindows) must be read a whole group at a time, or
    rank 0, stopping after its last batch, leaves the loader's generator behind rank 1's."""
    from dlcc.text import RandomWindows

    def after_one_pass(rank):
        loader = RandomWindows(np.arange(100), 2, 4, steps=3, seed=0)
        sharded = ShardedBatches(loader, rank, 2)
        batches = list(itertools.islice(iter(sharded), len(sharded)))   # how the Trainer reads a pass
        return batches, loader.generator.get_state()

    (b0, g0), (b1, g1) = after_one_pass(0), after_one_pass(1)
    assert len(b0) == len(b1) == 1 and not torch.equal(b0[0][0], b1[0][0])
    assert torch.equal(g0, g1)


@pytest.mark.slow
def test_two_processes_equal_one_process_at_twice_the_batch(tmp_path):
    """Same steps over the same samples: equal up to float rounding. (The sums of a gradient
    are added in another order in two processes; over many steps of a deep ReLU net such
    rounding differences grow - 2 epochs end about 1e-3 apart - so the weights are compared
    after 10 steps, where they are 1e-8 apart.)"""
    two, one = tmp_path / "two", tmp_path / "one"
    steps = ["train.epochs=null", "train.steps=10", *SGD]
    done = _dlcc("mnist1d-mlp", "--nproc", "2", "--out", str(two), "--set", *steps, "train.batch_size=50")
    assert done.returncode == 0, done.stderr[-3000:]
    assert _dlcc("mnist1d-mlp", "--out", str(one), "--set", *steps, "train.batch_size=100").returncode == 0
    a, b = _weights(two), _weights(one)
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-6
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (two, one))
    assert ma["steps"] == mb["steps"] == 10
    assert ma["val_loss"] == pytest.approx(mb["val_loss"], abs=1e-6)
    assert ma["test_accuracy"] == pytest.approx(mb["test_accuracy"], abs=1e-3)
    recorded = json.loads(json.dumps(__import__("yaml").safe_load((two / "config.yaml").read_text())))
    assert recorded["nproc"] == 2


def _worker_pids(out: Path) -> list[int]:
    """The training processes of the run in `out` (children of torchrun), from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"dlcc" in cmd and str(out).encode() in cmd and b"torch.distributed.run" not in cmd \
                and b"--nproc" not in cmd:
            pids.append(int(entry.name))
    return sorted(pids)


@pytest.mark.slow
def test_a_killed_rank_is_reported_and_the_run_resumes_exactly(tmp_path):
    killed, full = tmp_path / "killed", tmp_path / "full"
    args = ["--nproc", "2", "--set", "train.epochs=12", "train.batch_size=25", *SGD]
    proc = subprocess.Popen([sys.executable, "-m", "dlcc", "run", "mnist1d-mlp", "--out", str(killed), *args,
                             "--no-progress"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            last = killed / "checkpoints" / "last.pt"
            if last.exists():
                try:
                    if torch.load(last, weights_only=True)["epoch"] >= 2:
                        break
                except Exception:   # being written
                    pass
            time.sleep(0.1)
        workers = _worker_pids(killed)
        if proc.poll() is not None or len(workers) < 2:
            pytest.skip("the run finished before a rank could be killed")
        os.kill(workers[-1], signal.SIGKILL)
        killed_at = time.monotonic()
        _, err = proc.communicate(timeout=120)
        assert time.monotonic() - killed_at < 60
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert "a training process failed" in err and "dlcc run --resume --out" in err
    assert not (killed / "metrics.json").exists() and (killed / "checkpoints" / "last.pt").exists()
    resumed = _dlcc("--resume", "--out", str(killed), "--nproc", "2")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _dlcc("mnist1d-mlp", "--out", str(full), *args).returncode == 0
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (killed, full))
    for key in ("test_accuracy", "test_loss", "val_loss", "best_step", "steps"):
        assert a[key] == b[key], key
    wa, wb = _weights(killed), _weights(full)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def _busy_port() -> tuple[socket.socket, int]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


@pytest.mark.parametrize("args, words", [
    (["mnist1d-mlp", "--nproc", "0"], "--nproc 0"),
    (["mnist1d-mlp", "--nproc", "2", "--nnodes", "2"], "needs --master ADDR:PORT"),
    (["mnist1d-mlp", "--nproc", "2", "--nnodes", "2", "--node-rank", "2", "--master", "h:1"], "node ranks go from 0 to 1"),
    (["mnist1d-mlp", "--nproc", "2", "--master", "no-such-host.invalid:29500"], "cannot be resolved"),
    (["mnist1d-mlp", "--nproc", "2", "--master", "127.0.0.1:99999"], "is not ADDR:PORT"),
    (["digits-mlp-numpy", "--nproc", "2"], "cannot train on several processes"),
    (["mnist1d-mlp", "--nproc", "2", "--engine", "lightning"], "several processes use the dlcc engine"),
])
def test_bad_launches_exit_2_before_starting_anything(tmp_path, capsys, args, words):
    out = tmp_path / "run"
    code = main(["run", *args, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
    assert not out.exists()


def test_a_port_in_use_and_a_missing_out_are_refused(tmp_path, capsys):
    sock, port = _busy_port()
    try:
        code = main(["run", "mnist1d-mlp", "--nproc", "2", "--master", f"127.0.0.1:{port}", "--out",
                     str(tmp_path / "run"), "--no-progress"])
    finally:
        sock.close()
    assert code == 2 and f"port {port} cannot be used here" in capsys.readouterr().err
    assert main(["run", "mnist1d-mlp", "--nproc", "2", "--no-progress"]) == 2
    assert "need --out DIR" in capsys.readouterr().err


@pytest.mark.slow
def test_more_processes_than_batches_is_a_clear_error(tmp_path):
    done = _dlcc("mnist1d-mlp", "--nproc", "2", "--out", str(tmp_path / "run"), "--set", "train.batch_size=4000")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "fewer than the 2 processes" in done.stderr and "fix: use fewer processes" in done.stderr


GPT = ["data.corpus=embedded", "train.eval_every=3", "data.eval_batches=2", "train.schedule=none", "data.seq_len=16",
       "model.n_layer=2", "model.n_embd=16", "model.n_head=2", "sample.length=20", "model.dropout=0",
       "train.batch_size=4"]


@pytest.mark.slow
def test_fsdp_trains_like_ddp_and_resumes_exactly(tmp_path):
    """char-gpt with its blocks sharded (FSDP) takes the same steps as with DDP, keeps its
    optimizer state by parameter name (gathered from the shards), and resumes exactly."""
    runs = {"fsdp": ["train.parallel=fsdp", "train.steps=6"], "ddp": ["train.steps=6"],
            "part": ["train.parallel=fsdp", "train.steps=3"]}
    for name, extra in runs.items():
        done = _dlcc("char-gpt", "--nproc", "2", "--out", str(tmp_path / name), "--set", *GPT, *extra)
        assert done.returncode == 0, done.stderr[-3000:]
    resumed = _dlcc("char-gpt", "--resume", "--nproc", "2", "--out", str(tmp_path / "part"), "--set", *GPT,
                    "train.parallel=fsdp", "train.steps=6")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    fsdp, ddp, part = (_weights(tmp_path / n) for n in ("fsdp", "ddp", "part"))
    assert sorted(fsdp) == sorted(ddp)
    assert max(float((fsdp[k] - ddp[k]).abs().max()) for k in fsdp) < 1e-6
    assert all(torch.equal(fsdp[k], part[k]) for k in fsdp)
    last = torch.load(tmp_path / "fsdp" / "checkpoints" / "last.pt", weights_only=True)
    assert "blocks.0.attn.key.weight" in last["optimizer"]["state"]        # full, by name
    assert isinstance(next(iter(torch.load(tmp_path / "ddp" / "checkpoints" / "last.pt",
                                           weights_only=True)["optimizer"]["state"])), int)
    metrics = json.loads((tmp_path / "fsdp" / "metrics.json").read_text())
    assert metrics["steps"] == 6 and (tmp_path / "fsdp" / "samples.txt").exists()


@pytest.mark.slow
def test_fsdp_for_a_model_without_shard_units_is_a_clear_error(tmp_path):
    done = _dlcc("mnist1d-mlp", "--nproc", "2", "--out", str(tmp_path / "run"), "--set", "train.parallel=fsdp")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "does not say how to shard it" in done.stderr and "train.parallel=ddp" in done.stderr
    assert "Traceback" not in done.stderr
