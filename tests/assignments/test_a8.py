"""Assignment A8 (attention and a transformer block by hand in NumPy, prototypical networks on
MNIST digits 0-4 -> 5-9): the release holds exactly what students should get, with an empty
answers template and points on every task; a student's `dlcc course test` fails on a stub and
passes once the part is written; the answer key is consistent with the solution's own numbers.

`dlcc course check A8` (solution full marks, untouched stubs 0, in the grading sandbox) runs in
tests/course/test_check_all.py for every assignment; the shipped release is compared with the
sources in tests/course/test_shipped.py.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from dlcc.cli import main

REPO = Path(__file__).resolve().parents[2]
A8 = REPO / "assignments" / "A8"
RELEASED = {"a8_attention.py", "a8_protonet.py", "util.py", "checking.py", "questions.md", "answers.yaml",
            "written_answers.md", "assignment.yaml", "conftest.py", "tests/test_a8_attention.py",
            "tests/test_a8_protonet.py"}


@pytest.fixture
def assignments_env(monkeypatch):
    monkeypatch.setenv("DLCC_ASSIGNMENTS", str(REPO / "assignments"))


@pytest.fixture
def solution(monkeypatch):
    """The instructor's modules, imported from assignments/A8/src."""
    monkeypatch.syspath_prepend(str(A8 / "src"))
    names = ("util", "a8_attention", "a8_protonet", "checking")
    saved = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    modules = {}
    for name in names:
        spec = importlib.util.spec_from_file_location(name, A8 / "src" / f"{name}.py")
        modules[name] = importlib.util.module_from_spec(spec)
        sys.modules[name] = modules[name]
        spec.loader.exec_module(modules[name])
    yield modules
    for name in names:
        sys.modules.pop(name, None)
    sys.modules.update(saved)


def test_a8_release_holds_exactly_the_student_files(assignments_env, tmp_path, capsys):
    out_dir = tmp_path / "A8"
    assert main(["course", "release", "A8", "--out", str(out_dir)]) == 0
    files = {str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file()}
    assert files == RELEASED
    text = "\n".join(p.read_text(encoding="utf-8") for p in out_dir.rglob("*") if p.is_file())
    assert "BEGIN SOLUTION" not in text and "hidden/" not in text
    answers = yaml.safe_load((out_dir / "answers.yaml").read_text())
    assert answers and all(v is None for v in answers.values()), "the answers template must be empty"
    spec = yaml.safe_load((out_dir / "assignment.yaml").read_text())
    source = yaml.safe_load((A8 / "assignment.yaml").read_text())
    assert spec["released"] is True
    assert {t["id"] for t in spec["tasks"]} == {t["id"] for t in source["tasks"]}
    for task in spec["tasks"]:  # every task is worth something both locally and on the grader
        assert task["public_points"] > 0 and task["hidden_points"] > 0, task
    assert sum(t["points"] for t in source["tasks"]) == 100


def test_a8_key_matches_the_solutions_numbers(solution):
    """The numeric answers were computed with the solution; recompute them."""
    key = yaml.safe_load((A8 / "hidden" / "answers.yaml").read_text())
    att, proto = solution["a8_attention"], solution["a8_protonet"]
    params = [sum(p.numel() for p in torch.nn.MultiheadAttention(64, h).parameters()) for h in (8, 1)]
    assert params == key["A8.Q1"]["answer"]
    assert [8 * 12 * n * n * 4 / 2**20 for n in (512, 1024)] == key["A8.Q2"]["answer"]
    q, k, v = np.array([[2.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]), np.eye(3)
    w1 = att.attention_forward(q, k, v)[1]["weights"][0, 0]
    w2 = att.attention_forward(q, k, v, np.array([[False, True, True]]))[1]["weights"][0, 1]
    np.testing.assert_allclose([w1, w2], key["A8.Q6"]["answer"], atol=key["A8.Q6"]["tolerance"])
    d = proto.squared_distances(torch.tensor([[0.5, 1.0]]), torch.tensor([[0.0, 0.0], [2.0, 0.0]]))
    p0 = float(torch.softmax(-d, dim=1)[0, 0])
    assert abs(p0 - key["A8.Q7"]["answer"]) <= key["A8.Q7"]["tolerance"]


def test_a8_solution_runs_as_a_script(solution, tmp_path, monkeypatch):
    """`python a8_attention.py` draws the attention maps (the result folder redirected)."""
    monkeypatch.setattr(solution["util"], "RESULT_DIR", tmp_path)
    solution["a8_attention"].main()
    assert (tmp_path / "attention_maps.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_released_a8_stub_fails_and_solution_passes_locally(assignments_env, tmp_path, capsys):
    out_dir = tmp_path / "A8"
    assert main(["course", "release", "A8", "--out", str(out_dir)]) == 0
    capsys.readouterr()
    assert main(["course", "test", "A8", "--dir", str(out_dir), "--task", "A8.2"]) == 1
    assert "A8.2" in capsys.readouterr().out
    shutil.copyfile(A8 / "src" / "a8_attention.py", out_dir / "a8_attention.py")
    assert main(["course", "test", "A8", "--dir", str(out_dir), "--task", "A8.2"]) == 0
    assert "passed" in capsys.readouterr().out
