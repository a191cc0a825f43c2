"""`dlcc course gradescope`: the autograder archive, run as Gradescope runs it (setup.sh, then
run_autograder per submission) in a folder laid out like /autograder, with dlcc installed
offline from the wheels inside the archive into a fresh environment."""

import json
import os
import shutil
import subprocess
import zipfile

import pytest

from dlcc.cli import main

import freshenv


def cli(*args):
    return main(["course", *map(str, args)])


def run_script(script, root, venv, check=True):
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "DLCC_PYTHON": str(venv / "bin" / "python")}
    env.pop("DLCC_ASSIGNMENTS", None)
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, cwd=root)
    if check:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc


@pytest.mark.slow
def test_autograder_runs_like_on_gradescope(tiny, tiny_env, tmp_path, capsys):
    archive = tmp_path / "autograder.zip"
    assert cli("gradescope", "T0", "--out", archive) == 0
    root = tmp_path / "autograder"     # Gradescope's /autograder, moved for the test
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        zf.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "gradescope.json"} <= set(names)
    assert any(n.startswith("wheels/dlcc-") for n in names)
    assert "assignments/T0/hidden/answers.yaml" in names
    venv, _ = freshenv.make(tmp_path / "env", install_wheel=False)
    run_script(root / "source" / "setup.sh", root, venv)           # once, at image build
    assert freshenv.run(venv, ["-c", "import dlcc, sys; print(dlcc.__file__)"]).stdout.startswith(str(venv))
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")

    (root / "submission").mkdir()
    shutil.copyfile(tiny.code_dir / "tinymath.py", root / "submission" / "tinymath.py")
    (root / "submission" / "answers.yaml").write_text("T0.Q1: 1\nT0.Q2: b\n")
    run_script(root / "run_autograder", root, venv)
    res = json.loads((root / "results" / "results.json").read_text())
    assert res["score"] == 12.0
    assert [t["name"] for t in res["tests"]][:2] == ["T0.1 test_tiny_public.py::test_relu_known_values",
                                                     "T0.1 test_tiny_hidden.py::test_relu_matches_solution"]
    [(_, local)] = __import__("dlcc.course.grading.grade", fromlist=["grade"]).grade(
        tiny, root / "submission", tmp_path / "local.json", progress=lambda m: None)
    assert set(res) == set(local) and [t["name"] for t in res["tests"]] == [t["name"] for t in local["tests"]]

    shutil.rmtree(root / "submission")               # a wrong upload still gets results
    (root / "submission").mkdir()
    (root / "submission" / "README.md").write_text("oops")
    run_script(root / "run_autograder", root, venv)
    res = json.loads((root / "results" / "results.json").read_text())
    assert res["score"] == 0 and "holds none of T0's files" in res["output"]


def test_build_bad_input(tiny_copy, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLCC_ASSIGNMENTS", str(tiny_copy.root.parent))
    out = tmp_path / "ag.zip"
    out.write_text("earlier")
    assert cli("gradescope", "T0", "--out", out) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "earlier"
    assert cli("gradescope", "T0", "--out", tmp_path / "ag.tar") == 2
    assert "should be a .zip file" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli("gradescope", "T0", "--out", tmp_path / "x.zip", "--wheels", tmp_path / "empty") == 2
    assert "is not a folder of .whl files" in capsys.readouterr().err
    src = tiny_copy.code_dir / "tinymath.py"
    src.write_text(src.read_text().replace("    # === END SOLUTION ===\n    return out", "    return out", 1))
    assert cli("gradescope", "T0", "--out", tmp_path / "new.zip", "--no-tests") == 2
    err = capsys.readouterr().err
    assert "fails `dlcc course check`" in err and "BEGIN SOLUTION inside the region" in err
    assert "Traceback" not in err and not (tmp_path / "new.zip").exists()
