"""Several `dlcc sweep` worker processes sharing one study on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

HERE = Path(__file__).parent
pytestmark = pytest.mark.slow


def _space(tmp_path: Path, sleep: float, epochs: int) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(f"""
metric: val_loss
parameters:
  x: {{type: float, low: -3, high: 3}}
  y: {{type: float, low: -4, high: 0}}
  sleep: {{type: fixed, value: {sleep}}}
  epochs: {{type: fixed, value: {epochs}}}
""")
    return path


def _worker(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as fh:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, str(HERE / "sweep_recipes.py"), "sweep", "quadratic", *args],
                                stdout=fh, stderr=subprocess.STDOUT, env=env)


def _wait(proc: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    code = proc.wait(timeout=timeout)
    assert code == 0, f"worker exited {code}:\n{log.read_text()}"


_STORAGES: dict[str, optuna.storages.RDBStorage] = {}


def _study(url: str, name: str) -> optuna.Study:
    """The study as the database has it now (one connection pool per URL, reused by polls)."""
    if url not in _STORAGES:
        _STORAGES[url] = optuna.storages.RDBStorage(url)
    return optuna.load_study(study_name=name, storage=_STORAGES[url])


def test_two_workers_share_one_study(postgres_url, tmp_path):
    name = f"two-workers-{uuid.uuid4().hex[:8]}"
    space = _space(tmp_path, sleep=0.3, epochs=2)
    common = ["--space", str(space), "--trials", "10", "--storage", postgres_url, "--study", name,
              "--no-final", "--heartbeat", "2"]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [_worker(common + ["--out", str(tmp_path / w)], log) for w, log in zip("ab", logs)]
    for proc, log in zip(workers, logs):
        _wait(proc, log)

    trials = _study(postgres_url, name).get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 10 and len(trials) == 10  # exactly the requested number, none extra
    assert sorted(t.number for t in trials) == list(range(10))
    assert len({(t.params["x"], t.params["y"]) for t in complete}) == 10  # no configuration twice
    by_worker = {t.user_attrs["worker"] for t in complete}
    assert len(by_worker) == 2, f"only {by_worker} ran trials:\n{logs[0].read_text()}\n{logs[1].read_text()}"
    # every trial ran exactly once, in the directory of the worker that ran it
    dirs = {w: {p.name for p in (tmp_path / w / "trials").iterdir()} for w in "ab"}
    assert not dirs["a"] & dirs["b"]
    assert dirs["a"] | dirs["b"] == {f"trial-{n:04d}" for n in range(10)}
    for t in complete:
        metrics = json.loads((Path(t.user_attrs["dir"]) / "metrics.json").read_text())
        assert metrics["val_loss"] == pytest.approx(t.value)


def test_killed_worker_loses_no_completed_trial(postgres_url, tmp_path):
    name = f"killed-{uuid.uuid4().hex[:8]}"
    space = _space(tmp_path, sleep=0.7, epochs=3)  # ~2 s per trial: time to kill one mid-way
    common = ["--space", str(space), "--trials", "5", "--storage", postgres_url, "--study", name,
              "--heartbeat", "1"]
    log_a = tmp_path / "a.log"
    victim = _worker(common + ["--out", str(tmp_path / "a"), "--no-final"], log_a)
    deadline = time.monotonic() + 300
    before: dict[int, float] = {}
    running: list[int] = []
    try:
        while time.monotonic() < deadline:
            assert victim.poll() is None, f"worker ended before it could be killed:\n{log_a.read_text()}"
            try:
                trials = _study(postgres_url, name).get_trials()
            except KeyError:  # the worker has not created the study yet
                trials = []
            before = {t.number: t.value for t in trials if t.state == TrialState.COMPLETE}
            running = [t.number for t in trials if t.state == TrialState.RUNNING]
            if before and running:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"no completed + running trial within the time limit:\n{log_a.read_text()}")
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    assert victim.returncode == -signal.SIGKILL

    # A new worker takes over: the dead worker's trial fails by heartbeat, the study goes on.
    log_b = tmp_path / "b.log"
    _wait(_worker(common + ["--out", str(tmp_path / "b")], log_b), log_b)

    trials = {t.number: t for t in _study(postgres_url, name).get_trials()}
    complete = {n: t.value for n, t in trials.items() if t.state == TrialState.COMPLETE}
    assert len(complete) == 5
    for number, value in before.items():  # nothing completed before the kill is lost
        assert complete[number] == value
    killed = running[0]
    assert trials[killed].state == TrialState.FAIL, "the killed trial should be marked failed by heartbeat"
    assert killed not in complete
    best = json.loads((tmp_path / "b" / "best.json").read_text())
    assert best["best_trial"]["value"] == min(complete.values())
    assert best["trials"]["complete"] == 5 and best["trials"]["fail"] >= 1
    assert "test_loss" in best["final_run"]["test"]
