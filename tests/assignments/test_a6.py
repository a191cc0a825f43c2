"""Assignment A6 (the evaluate stage of a DVC pipeline): the release holds exactly what
students should get, with an empty answers template, points on every task and the sandbox
needs declared; a student's `dlcc course test` fails on a stub and passes once it is written.

`dlcc course check A6` (solution full marks, untouched stubs 0, in the grading sandbox, with
real dvc and git subprocesses) runs in tests/course/test_check_all.py for every assignment;
the shipped release is compared with the sources in tests/course/test_shipped.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dlcc.cli import main

REPO = Path(__file__).resolve().parents[2]
A6 = REPO / "assignments" / "A6"
RELEASED = {"a6_evaluate.py", "a6_pipeline.py", "questions.md", "answers.yaml", "written_answers.md",
            "assignment.yaml", "conftest.py", "tests/test_a6_evaluate.py"}


@pytest.fixture
def assignments_env(monkeypatch):
    monkeypatch.setenv("DLCC_ASSIGNMENTS", str(REPO / "assignments"))


def test_a6_release_holds_exactly_the_student_files(assignments_env, tmp_path, capsys):
    out_dir = tmp_path / "A6"
    assert main(["course", "release", "A6", "--out", str(out_dir)]) == 0
    files = {str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file()}
    assert files == RELEASED
    text = "\n".join(p.read_text(encoding="utf-8") for p in out_dir.rglob("*") if p.is_file())
    assert "BEGIN SOLUTION" not in text and "hidden/" not in text
    stub = (out_dir / "a6_evaluate.py").read_text()
    assert stub.count("raise NotImplementedError") == 4 and "log_probs" not in stub
    answers = yaml.safe_load((out_dir / "answers.yaml").read_text())
    assert answers and all(v is None for v in answers.values()), "the answers template must be empty"
    spec = yaml.safe_load((out_dir / "assignment.yaml").read_text())
    source = yaml.safe_load((A6 / "assignment.yaml").read_text())
    assert spec["released"] is True
    assert {t["id"] for t in spec["tasks"]} == {t["id"] for t in source["tasks"]} == {"A6.1", "A6.2", "A6.3"}
    for task in spec["tasks"]:   # every task is worth something both locally and on the grader
        assert task["public_points"] > 0 and task["hidden_points"] > 0, task
    assert source["sandbox"] == {"subprocesses": True, "network": "loopback"}


def test_the_solution_metrics_agree_with_dlccs_evaluate_stage():
    """The student's A6.1 (NumPy, float64) and dlcc.pipeline's (torch) on the same logits."""
    import importlib.util

    import numpy as np
    import torch

    from dlcc.pipeline.stages import classification_metrics

    spec = importlib.util.spec_from_file_location("a6_solution", A6 / "src" / "a6_evaluate.py")
    solution = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solution)
    rng = np.random.default_rng(0)
    logits, targets = rng.normal(scale=3, size=(200, 4)).astype(np.float32), rng.integers(0, 3, size=200)
    classes = ["a", "b", "c", "d"]   # d has no example: None in both
    mine = solution.classification_metrics(logits, targets, classes)
    theirs = classification_metrics(torch.from_numpy(logits), torch.from_numpy(targets), classes)
    assert sorted(mine) == sorted(theirs)
    assert mine["test_per_class_accuracy"] == theirs["test_per_class_accuracy"]
    assert mine["test_per_class_accuracy"]["d"] is None
    assert mine["test_accuracy"] == theirs["test_accuracy"]
    assert abs(mine["test_loss"] - theirs["test_loss"]) < 1e-6


@pytest.mark.slow
def test_released_a6_stub_fails_and_solution_passes_locally(assignments_env, tmp_path, capsys):
    out_dir = tmp_path / "A6"
    assert main(["course", "release", "A6", "--out", str(out_dir)]) == 0
    capsys.readouterr()
    assert main(["course", "test", "A6", "--dir", str(out_dir), "--task", "A6.1"]) == 1
    assert "A6.1" in capsys.readouterr().out
    shutil.copyfile(A6 / "src" / "a6_evaluate.py", out_dir / "a6_evaluate.py")
    assert main(["course", "test", "A6", "--dir", str(out_dir), "--task", "A6.1"]) == 0
    assert "passed" in capsys.readouterr().out
