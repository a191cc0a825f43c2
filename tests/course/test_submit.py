"""`dlcc course submit`: the checks before packing, the zip the grader takes, and bad input."""

import shutil
import zipfile

import pytest

from dlcc.cli import main
from dlcc.course.grading.grade import grade

from coursepaths import SUBMISSIONS

ANSWERS = "T0.Q1: 1\nT0.Q2: b\n"
WRITTEN = "## T0.Q3\n\nd/dy_hat of mean((y_hat - y)^2) is 2 (y_hat - y) / n.\n"


def cli(*args):
    return main(["course", *map(str, args)])


@pytest.fixture
def work(tiny, tiny_env, tmp_path, capsys):
    """A student's folder of T0, finished: the solution, both answer files."""
    rel = tmp_path / "T0"
    assert cli("release", "T0", "--out", rel) == 0
    shutil.copyfile(tiny.code_dir / "tinymath.py", rel / "tinymath.py")
    (rel / "answers.yaml").write_text(ANSWERS)
    (rel / "written_answers.md").write_text(WRITTEN)
    capsys.readouterr()
    return rel


def test_submit_packs_exactly_what_the_grader_takes(tiny, work, tmp_path, capsys):
    (work / "notes.txt").write_text("not handed in")
    out = tmp_path / "hand-in.zip"
    assert cli("submit", "T0", "--dir", work, "--out", out) == 0
    printed = capsys.readouterr().out
    assert "public tests: 2/2 passed" in printed and f"wrote {out}" in printed
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["answers.yaml", "tinymath.py", "written_answers.md"]
        assert zf.read("answers.yaml").decode() == ANSWERS
    [(_, res)] = grade(tiny, out, tmp_path / "r.json", progress=lambda m: None)
    assert res["score"] == 12.0
    assert (tmp_path / "r.written.md").read_text() == WRITTEN  # for the hand grader


def test_unfinished_work_needs_partial(work, tmp_path, capsys):
    (work / "tinymath.py").write_text((work / "tinymath.py").read_text() +
                                      '\n\ndef extra():\n    raise NotImplementedError("T0.2: this part of x')
    assert cli("submit", "T0", "--dir", work, "--out", tmp_path / "a.zip") == 2  # syntax error
    assert "tinymath.py:" in capsys.readouterr().err
    shutil.copyfile(SUBMISSIONS / "wrong_formula" / "tinymath.py", work / "tinymath.py")
    (work / "answers.yaml").write_text("T0.Q1: 1\n")
    (work / "written_answers.md").write_text("## T0.Q3\n\n(write your answer here)\n")
    assert cli("submit", "T0", "--dir", work, "--out", tmp_path / "a.zip") == 2
    err = capsys.readouterr().err
    assert "T0.Q2 unanswered (answers.yaml); T0.Q3 unanswered (written_answers.md)" in err
    assert "--partial" in err and not (tmp_path / "a.zip").exists()
    assert cli("submit", "T0", "--dir", work, "--out", tmp_path / "a.zip", "--partial", "--no-tests") == 0
    assert "unfinished (handed in with --partial)" in capsys.readouterr().out


@pytest.mark.parametrize("change, message", [
    ("answers.yaml:T0.Q9: 2", "unknown question id(s) T0.Q9"),
    ("answers.yaml:T0.Q1: one", "T0.Q1 (numeric): 'one' is not a number"),
    ("answers.yaml:T0.Q2: e", "T0.Q2 (choice): e is not one of the choices a, b, c"),
    ("answers.yaml:T0.Q1: [unclosed", "answers.yaml is not valid YAML"),
    ("answers.yaml:- a list", "should map question ids to answers"),
    ("answers.yaml:", "delete"),
    ("written_answers.md:", "delete"),
    ("written_answers.md:# nothing here", "no `## T0.Q3` heading"),
    ("tinymath.py:", "delete"),
    ("assignment.yaml:", "delete"),
])
def test_submit_bad_input(work, tmp_path, capsys, change, message):
    name, _, text = change.partition(":")
    if message == "delete":
        (work / name).unlink()
        message = {"answers.yaml": "answers.yaml is missing", "written_answers.md":
                   "written_answers.md is missing", "tinymath.py": "tinymath.py is missing",
                   "assignment.yaml": "holds no assignment.yaml"}[name]
    else:
        (work / name).write_text(text + "\n" + (ANSWERS.split("\n")[1] + "\n" if "Q1" in text else ""))
    out = tmp_path / "a.zip"
    assert cli("submit", "T0", "--dir", work, "--out", out) == 2
    err = capsys.readouterr().err
    assert message in err and "fix:" in err and "Traceback" not in err
    assert not out.exists()


def test_submit_refuses_to_overwrite_and_wrong_names(work, tmp_path, capsys):
    out = tmp_path / "a.zip"
    out.write_text("earlier")
    assert cli("submit", "T0", "--dir", work, "--out", out) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "earlier"
    assert cli("submit", "T0", "--dir", work, "--out", tmp_path / "a.tar") == 2
    assert "should be a .zip file" in capsys.readouterr().err
    assert cli("submit", "A1", "--dir", work, "--out", tmp_path / "b.zip") == 2
    assert "is assignment T0, not A1" in capsys.readouterr().err


def test_grader_refuses_a_zip_of_something_else(tiny, tiny_env, tmp_path, capsys):
    z = tmp_path / "other.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a1_mlp_3_layers.py", "x = 1\n")
        zf.writestr("README.md", "hello")
    assert cli("grade", "T0", z, "--out", tmp_path / "r.json") == 2
    err = capsys.readouterr().err
    assert "holds none of T0's files" in err and "a1_mlp_3_layers.py" in err and "fix:" in err
    assert not (tmp_path / "r.json").exists()
