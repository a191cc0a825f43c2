"""`dlcc course list | release | check | test | report` through the CLI, including bad input."""

import json
import shutil

import pytest

from dlcc.cli import main

from coursepaths import SUBMISSIONS


def cli(*args):
    return main(["course", *map(str, args)])


def test_list(tiny_env, capsys):
    assert cli("list") == 0
    out = capsys.readouterr().out
    assert "T0" in out and "Tiny example" in out and "10" in out


def test_release_then_student_test_on_stubs(tiny_env, tmp_path, capsys):
    rel = tmp_path / "T0"
    assert cli("release", "T0", "--out", rel) == 0
    capsys.readouterr()
    assert cli("test", "T0", "--dir", rel) == 1
    out = capsys.readouterr().out
    assert "public tests: 0/2 passed — hidden tests not run here, 6.5 points pending" in out
    assert "written questions (4 points) are checked after you submit" in out
    assert "NotImplementedError: T0.1: this part of relu() is not implemented yet" in out
    assert "at tinymath.py:13 in relu" in out


def test_student_test_shows_values_beside_expected(tiny_env, tmp_path, capsys, monkeypatch):
    rel = tmp_path / "T0"
    cli("release", "T0", "--out", rel)
    shutil.copyfile(SUBMISSIONS / "wrong_formula" / "tinymath.py", rel / "tinymath.py")
    monkeypatch.chdir(rel)
    capsys.readouterr()
    assert cli("test", "T0") == 1
    out = capsys.readouterr().out
    rows = [" ".join(line.split()) for line in out.splitlines()]
    assert "T0.1 relu 0/1 passed 0/2 2 points pending" in rows
    assert "T0.2 mse and its gradient 1/1 passed 1.5/1.5 4.5 points pending" in rows
    assert "relu([-1, 0, 2.5]): 1 of 3 values differ (rtol 1e-05, atol 1e-08); largest difference 1 at [0]" in out
    assert "index          yours          expected       difference" in out
    assert "[0]            1              0              1" in out
    assert cli("test", "T0", "--task", "T0.2") == 0
    out = capsys.readouterr().out
    assert "public tests: 1/1 passed — hidden tests not run here, 4.5 points pending" in out
    assert "T0.1" not in out.split("---")[-1].split("public tests")[0]


def test_plain_pytest_works_in_a_release(tiny_env, tmp_path):
    import subprocess
    import sys

    rel = tmp_path / "T0"
    cli("release", "T0", "--out", rel)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=rel,
                          capture_output=True, text=True)
    assert "2 failed" in proc.stdout and "NotImplementedError" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["release", "A99", "--out", "{tmp}/x"], "unknown assignment 'A99'"),
    (["check", "A99"], "unknown assignment 'A99'"),
    (["check"], "name an assignment"),
    (["test", "T0", "--dir", "{tmp}"], "holds no assignment.yaml"),
    (["test", "A1", "--dir", "{rel}"], "is assignment T0, not A1"),
    (["test", "T0", "--dir", "{rel}", "--task", "T0.9"], "has no such task"),
    (["grade", "T0", "{rel}", "--out", "{tmp}/r.json", "--jobs", "-1"], "--jobs -1"),
    (["list", "--assignments", "{tmp}/missing"], "not a directory"),
    (["report", "{tmp}/missing.json", "--out", "{tmp}/rep"], "does not exist"),
    (["report", "{tmp}/bad.json", "--out", "{tmp}/rep"], "is not a results.json"),
])
def test_bad_input_exits_2_with_fix(tiny_env, tmp_path, capsys, args, message):
    rel = tmp_path / "rel"
    cli("release", "T0", "--out", rel)
    (tmp_path / "bad.json").write_text(json.dumps({"hello": 1}))
    capsys.readouterr()
    args = [a.format(tmp=tmp_path, rel=rel) for a in args]
    assert cli(*args) == 2
    err = capsys.readouterr().err
    assert message in err and "fix:" in err and "Traceback" not in err


def test_check_cli(tiny_env, capsys):
    assert cli("check", "T0", "--no-tests") == 0
    out = capsys.readouterr().out
    assert "5 tests: 2 public, 3 hidden" in out and "T0: OK" in out


def test_report_from_class_results(tiny, tiny_env, tmp_path, capsys):
    klass = tmp_path / "class"
    for name in ("wrong_formula", "crash_at_import"):
        shutil.copytree(SUBMISSIONS / name, klass / name)
    (klass / "solved").mkdir()
    shutil.copyfile(tiny.code_dir / "tinymath.py", klass / "solved" / "tinymath.py")
    assert cli("grade", "T0", klass, "--out", tmp_path / "res", "--jobs", 2) == 0
    assert cli("report", tmp_path / "res", "--out", tmp_path / "rep") == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "# Class report: 3 submissions" in md and "| T0.1 | 33% | 1.33 / 4 |" in md
    assert (tmp_path / "rep" / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tests_csv = (tmp_path / "rep" / "tests.csv").read_text()
    assert "importing tinymath raised RuntimeError: boom at import" in tests_csv
    assert cli("report", tmp_path / "res", "--out", tmp_path / "rep") == 2  # no silent overwrite


def test_student_test_stops_a_loop_at_the_assignments_limit(tiny_env, tmp_path, capsys):
    """T0 says 3 s per test: `course test` stops an infinite loop there, as the grader does."""
    import time

    rel = tmp_path / "T0"
    cli("release", "T0", "--out", rel)
    shutil.copyfile(SUBMISSIONS / "infinite_loop" / "tinymath.py", rel / "tinymath.py")
    capsys.readouterr()
    t0 = time.monotonic()
    assert cli("test", "T0", "--dir", rel, "--task", "T0.1") == 1
    assert time.monotonic() - t0 < 20
    assert "did not finish within its time limit of 3 s" in capsys.readouterr().out


def test_report_out_is_a_file(tiny_env, tmp_path, capsys):
    (tmp_path / "r.json").write_text(json.dumps({"score": 1, "tests": []}))
    (tmp_path / "taken").write_text("mine")
    assert cli("report", tmp_path / "r.json", "--out", tmp_path / "taken") == 2
    err = capsys.readouterr().err
    assert "is a file" in err and "fix:" in err and "Traceback" not in err
    assert (tmp_path / "taken").read_text() == "mine"
