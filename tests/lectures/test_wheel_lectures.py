"""Students install a wheel, not a clone: the quizzes and companions must travel as package data
and work from a folder outside the repository. (A cheap stand-in for a full wheel install: build
the wheel, unpack it, and run dlcc from the unpacked copy in a temporary folder.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_lectures_work_from_the_built_wheel(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "-q", "-w", str(tmp_path / "dist"), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    if build.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{build.stderr[-3000:]}")
    wheel = next((tmp_path / "dist").glob("dlcc-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "dlcc/lectures/quizzes/L3.yaml" in names and "dlcc/lectures/companions/l03_backprop.py" in names
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    elsewhere = tmp_path / "student"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(unpacked), OMP_WAIT_POLICY="PASSIVE")
    run = lambda *args: subprocess.run([sys.executable, "-m", "dlcc", *args], cwd=elsewhere, env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=300)
    where = subprocess.run([sys.executable, "-c", "import dlcc; print(dlcc.__file__)"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=60).stdout
    assert str(unpacked) in where, where
    assert "closing" in run("lecture", "list").stdout
    quiz = run("lecture", "quiz", "L3", "--json", "--answer", "Q1=85")
    assert json.loads(quiz.stdout)["score"] == 1, quiz.stderr
    done = run("lecture", "run", "math", "--quick", "--out", "math")
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "math" / "softmax_jacobian.png").is_file()
