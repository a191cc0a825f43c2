"""Assignment A5 (GANs, adversarial examples, saliency, TorchScript): the release holds exactly
what students should get, with an empty answers template and points on every task; a student's
`dlcc course test` fails on a stub and passes once the part is written.

`dlcc course check A5` (solution full marks, untouched stubs 0, in the grading sandbox) runs in
tests/course/test_check_all.py for every assignment; the shipped release is compared with the
sources in tests/course/test_shipped.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dlcc.cli import main

REPO = Path(__file__).resolve().parents[2]
A5 = REPO / "assignments" / "A5"
RELEASED = {"a5_gan.py", "gan.py", "a5_conditional_gan.py", "a5_fast_gradient_sign.py",
            "a5_model_visualization.py", "a5_model_saving_loading.py", "util.py", "checking.py",
            "questions.md", "answers.yaml", "written_answers.md", "assignment.yaml", "conftest.py",
            "tests/test_a5_gan.py", "tests/test_a5_attack_saliency_export.py"}


@pytest.fixture
def assignments_env(monkeypatch):
    monkeypatch.setenv("DLCC_ASSIGNMENTS", str(REPO / "assignments"))


def test_a5_release_holds_exactly_the_student_files(assignments_env, tmp_path, capsys):
    out_dir = tmp_path / "A5"
    assert main(["course", "release", "A5", "--out", str(out_dir)]) == 0
    files = {str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file()}
    assert files == RELEASED
    text = "\n".join(p.read_text(encoding="utf-8") for p in out_dir.rglob("*") if p.is_file())
    assert "BEGIN SOLUTION" not in text and "hidden/" not in text
    answers = yaml.safe_load((out_dir / "answers.yaml").read_text())
    assert answers and all(v is None for v in answers.values()), "the answers template must be empty"
    spec = yaml.safe_load((out_dir / "assignment.yaml").read_text())
    source = yaml.safe_load((A5 / "assignment.yaml").read_text())
    assert spec["released"] is True
    assert {t["id"] for t in spec["tasks"]} == {t["id"] for t in source["tasks"]}
    for task in spec["tasks"]:  # every task is worth something both locally and on the grader
        assert task["public_points"] > 0 and task["hidden_points"] > 0, task
    # the written questions the issue asks for: optimal D and G losses, JS on disjoint supports, instability
    questions = {q["id"]: q["title"] for q in source["questions"]}
    assert {"A5.Q1", "A5.Q2", "A5.Q3", "A5.Q4"} <= set(questions)


@pytest.mark.slow
def test_released_a5_stub_fails_and_solution_passes_locally(assignments_env, tmp_path, capsys):
    out_dir = tmp_path / "A5"
    assert main(["course", "release", "A5", "--out", str(out_dir)]) == 0
    capsys.readouterr()
    assert main(["course", "test", "A5", "--dir", str(out_dir), "--task", "A5.3"]) == 1
    assert "A5.3" in capsys.readouterr().out
    for name in ("gan.py", "a5_gan.py"):
        shutil.copyfile(A5 / "src" / name, out_dir / name)
    assert main(["course", "test", "A5", "--dir", str(out_dir), "--task", "A5.3"]) == 0
    assert "passed" in capsys.readouterr().out
