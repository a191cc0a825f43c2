"""`pip install dlcc` and then `dlcc predict --model ecg-rpeak RECORD` or `dlcc serve --model
ecg-rpeak`: the shipped weights travel as package data and work from a folder outside the
repository (the wheel built from this checkout, unpacked, run from a temporary folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dlcc.data import make_synthetic_ecg

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ["dlcc/predict/models/ecg-rpeak/model.pt", "dlcc/predict/models/ecg-rpeak/config.yaml"]


def test_the_shipped_model_is_in_the_source_tree_and_small():
    for name in SHIPPED:
        path = REPO / "src" / name
        assert path.is_file(), f"{path} is missing: run benchmarks/bench_ecg_generalise.py --ship"
    assert (REPO / "src" / SHIPPED[0]).stat().st_size < 2_000_000


@pytest.mark.slow
def test_shipped_detector_works_from_the_built_wheel(tmp_path):
    # offline: the venv's own setuptools builds it (no isolated build env to download), no index is asked
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-q", "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, PIP_NO_INDEX="1", PIP_CONFIG_FILE=os.devnull))
    if build.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{build.stderr[-3000:]}")
    wheel = next((tmp_path / "dist").glob("dlcc-*.whl"))
    assert set(SHIPPED) <= set(zipfile.ZipFile(wheel).namelist())
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    elsewhere = tmp_path / "user"
    elsewhere.mkdir()
    signal, peaks = make_synthetic_ecg(60, fs=250, n_leads=1, seed=4)
    np.save(elsewhere / "rec.npy", signal[:, 0])
    env = dict(os.environ, PYTHONPATH=str(unpacked), OMP_WAIT_POLICY="PASSIVE")
    run = subprocess.run([sys.executable, "-m", "dlcc", "predict", "--model", "ecg-rpeak", "rec.npy", "--fs", "250",
                          "--out", "triggers", "--json"], cwd=elsewhere, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert abs(summary["records"][0]["beats"] - len(peaks)) <= 2
    assert (elsewhere / "triggers" / "rec_triggers.csv").is_file()
    _serve_from(elsewhere, env, signal[:, 0], len(peaks))


def _serve_from(folder: Path, env: dict, signal: np.ndarray, n_peaks: int) -> None:
    """`dlcc serve --model ecg-rpeak` from the unpacked wheel answers a JSON signal."""
    pytest.importorskip("fastapi")
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "dlcc", "serve", "--model", "ecg-rpeak", "--port", str(port)],
                              cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            assert server.poll() is None, "dlcc serve exited from the wheel"
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/predict", json={"signal": signal.tolist(), "fs": 250},
                               timeout=60)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert r.status_code == 200 and abs(r.json()["predictions"][0]["beats"] - n_peaks) <= 2
    finally:
        server.terminate()
        server.wait(timeout=30)
