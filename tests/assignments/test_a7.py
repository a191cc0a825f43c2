"""Assignment A7 (serving a model: a FastAPI endpoint and a Streamlit page): the release holds
exactly what students should get, with an empty answers template, points on every task and the
sandbox needs declared; the given model loads without pickle; a student's `dlcc course test`
fails on a stub and passes once it is written.

`dlcc course check A7` (solution full marks, untouched stubs 0, in the grading sandbox, with
the app under uvicorn in a subprocess on 127.0.0.1) runs in tests/course/test_check_all.py for
every assignment; the shipped release is compared with the sources in tests/course/test_shipped.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dlcc.cli import main

REPO = Path(__file__).resolve().parents[2]
A7 = REPO / "assignments" / "A7"
RELEASED = {"a7_api.py", "a7_page.py", "a7_model.py", "a7_client.py", "a7_page_app.py", "questions.md",
            "answers.yaml", "written_answers.md", "assignment.yaml", "conftest.py", "tests/test_a7_api.py"}


@pytest.fixture
def assignments_env(monkeypatch):
    monkeypatch.setenv("DLCC_ASSIGNMENTS", str(REPO / "assignments"))


def test_a7_release_holds_exactly_the_student_files(assignments_env, tmp_path):
    out_dir = tmp_path / "A7"
    assert main(["course", "release", "A7", "--out", str(out_dir)]) == 0
    files = {str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file()}
    assert files == RELEASED
    text = "\n".join(p.read_text(encoding="utf-8") for p in out_dir.rglob("*") if p.is_file())
    assert "BEGIN SOLUTION" not in text and "hidden/" not in text
    stub = (out_dir / "a7_api.py").read_text()
    assert stub.count("raise NotImplementedError") == 4 and "run_in_threadpool(answer" not in stub
    assert (out_dir / "a7_page.py").read_text().count("raise NotImplementedError") == 1
    answers = yaml.safe_load((out_dir / "answers.yaml").read_text())
    assert answers and all(v is None for v in answers.values()), "the answers template must be empty"
    spec = yaml.safe_load((out_dir / "assignment.yaml").read_text())
    source = yaml.safe_load((A7 / "assignment.yaml").read_text())
    assert spec["released"] is True
    assert {t["id"] for t in spec["tasks"]} == {t["id"] for t in source["tasks"]} == {"A7.1", "A7.2", "A7.3", "A7.4"}
    for task in spec["tasks"]:   # every task is worth something both locally and on the grader
        assert task["public_points"] > 0 and task["hidden_points"] > 0, task
    assert source["sandbox"] == {"subprocesses": True, "network": "loopback"}


def test_the_given_model_loads_weights_only(tmp_path, monkeypatch):
    """a7_model saves a state_dict and reads it with weights_only=True: a pickled object planted
    in weights.pt is refused, not run."""
    import sys

    import torch

    monkeypatch.syspath_prepend(str(A7 / "src"))
    monkeypatch.delitem(sys.modules, "a7_model", raising=False)
    import a7_model

    folder = a7_model.save(a7_model.build_network(), tmp_path / "model")
    served = a7_model.load_model(folder)
    assert served.classes == [str(d) for d in range(10)] and served.input["size"] == 28
    assert tuple(served.model(torch.zeros(2, 1, 28, 28)).shape) == (2, 10)
    torch.save({"planted": Path("x")}, Path(folder) / "weights.pt")   # a pickled object of another type
    with pytest.raises(Exception, match="weights_only|Unsupported global|WeightsUnpickler"):
        a7_model.load_model(folder)


@pytest.mark.slow
@pytest.mark.data
def test_released_a7_stub_fails_and_solution_passes_locally(assignments_env, tmp_path, capsys, shared_data):
    out_dir = tmp_path / "A7"
    assert main(["course", "release", "A7", "--out", str(out_dir)]) == 0
    capsys.readouterr()
    assert main(["course", "test", "A7", "--dir", str(out_dir), "--task", "A7.1"]) == 1
    assert "A7.1" in capsys.readouterr().out
    shutil.copyfile(A7 / "src" / "a7_api.py", out_dir / "a7_api.py")
    assert main(["course", "test", "A7", "--dir", str(out_dir), "--task", "A7.1"]) == 0
    assert "passed" in capsys.readouterr().out
