"""Assignments A2 and A4: the release holds exactly what students should get. (`dlcc course
check` of both, every public and hidden test against the solution and the stubs in the grading
sandbox, runs once in tests/course/test_check_all.py.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dlcc.cli import main

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = REPO / "assignments"

RELEASED = {
    "A2": {"a2_autograd.py", "dataset.py", "model.py", "a2_pytorch_mlp.py", "a2_pytorch_mlp_tracked.py",
           "a2_sweep.py", "util.py", "checking.py", "questions.md", "answers.yaml", "written_answers.md",
           "assignment.yaml",
           "conftest.py", "tests/test_a2_autograd.py", "tests/test_a2_dataset_model.py",
           "tests/test_a2_training.py", "tests/test_a2_sweep.py"},
    "A4": {"rnn.py", "a4_char_rnn.py", "transformer.py", "ecgdataset.py", "a4_ecg_trigger_detection.py",
           "util.py", "checking.py", "questions.md", "answers.yaml", "written_answers.md",
           "assignment.yaml", "conftest.py", "tests/test_a4_char_rnn.py", "tests/test_a4_ecg.py"},
}


@pytest.fixture
def assignments_env(monkeypatch):
    monkeypatch.setenv("DLCC_ASSIGNMENTS", str(ASSIGNMENTS))


@pytest.mark.parametrize("aid", ["A2", "A4"])
def test_release_holds_exactly_the_student_files(aid, assignments_env, tmp_path, capsys):
    out_dir = tmp_path / aid
    assert main(["course", "release", aid, "--out", str(out_dir)]) == 0
    files = {str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file()}
    assert files == RELEASED[aid]
    text = "\n".join(p.read_text(encoding="utf-8") for p in out_dir.rglob("*") if p.is_file())
    assert "BEGIN SOLUTION" not in text and "hidden/" not in text
    answers = yaml.safe_load((out_dir / "answers.yaml").read_text())
    assert answers and all(v is None for v in answers.values()), "the answers template must be empty"
    spec = yaml.safe_load((out_dir / "assignment.yaml").read_text())
    assert spec["released"] is True
    assert {t["id"] for t in spec["tasks"]} == {t["id"] for t in yaml.safe_load(
        (ASSIGNMENTS / aid / "assignment.yaml").read_text())["tasks"]}
    for task in spec["tasks"]:  # every task is worth something both locally and on the grader
        assert task["public_points"] > 0 and task["hidden_points"] > 0, task


@pytest.mark.slow
def test_released_a2_stub_fails_and_solution_passes_locally(assignments_env, tmp_path, capsys):
    """What a student sees: `dlcc course test A2 --task A2.1` fails on the stub, passes once
    the function is written (here: the solution copied in)."""
    out_dir = tmp_path / "A2"
    assert main(["course", "release", "A2", "--out", str(out_dir)]) == 0
    capsys.readouterr()
    assert main(["course", "test", "A2", "--dir", str(out_dir), "--task", "A2.1"]) == 1
    assert "A2.1: this part of scalar_to_scalar_grad() is not implemented yet" in capsys.readouterr().out
    shutil.copyfile(ASSIGNMENTS / "A2" / "src" / "a2_autograd.py", out_dir / "a2_autograd.py")
    assert main(["course", "test", "A2", "--dir", str(out_dir), "--task", "A2.1"]) == 0
    assert "1/1 passed" in capsys.readouterr().out
