"""`dlcc course grade` on the tiny assignment: scores, Gradescope format, zips, class folders
and bad input. (Hostile submissions: test_sandbox_attacks.py.)"""

import csv
import json
import shutil
import zipfile

import pytest

from dlcc.cli import main
from dlcc.course.grading.grade import grade
from dlcc.course.authoring.release import release

from coursepaths import SUBMISSIONS


def solution_dir(tiny, tmp_path, answers=None):
    d = tmp_path / "solved"
    d.mkdir()
    shutil.copyfile(tiny.code_dir / "tinymath.py", d / "tinymath.py")
    if answers is not None:
        (d / "answers.yaml").write_text(answers)
    return d


def run(tiny, sub, out, **kw):
    return grade(tiny, sub, out, progress=lambda m: None, **kw)


def test_solution_gets_full_marks_in_gradescope_format(tiny, tmp_path):
    sub = solution_dir(tiny, tmp_path, "T0.Q1: 1.0\nT0.Q2: B\n")
    out = tmp_path / "results.json"
    [(name, res)] = run(tiny, sub, out)
    assert json.loads(out.read_text()) == res
    assert res["score"] == 12.0
    names = [t["name"] for t in res["tests"]]
    assert names == ["T0.1 test_tiny_public.py::test_relu_known_values",
                     "T0.1 test_tiny_hidden.py::test_relu_matches_solution",
                     "T0.2 test_tiny_public.py::test_mse_known_value",
                     "T0.2 test_tiny_hidden.py::test_mse_gradient_numerically",
                     "T0.2 test_tiny_hidden.py::test_mse_matches_solution",
                     "T0.Q1 slope of ReLU at x = 3", "T0.Q2 which activation saturates"]
    for t in res["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output", "visibility"}
        assert t["score"] == t["max_score"] and t["status"] == "passed"
    assert [t["max_score"] for t in res["tests"]] == [2.0, 2.0, 1.5, 3.0, 1.5, 1.0, 1.0]
    assert {t["visibility"] for t in res["tests"][:1]} == {"visible"}
    assert res["tests"][1]["visibility"] == "after_published"
    assert "2 more points (T0.Q3) are graded by hand" in res["output"]
    assert res["extra_data"]["manual_questions"] == [
        {"id": "T0.Q3", "title": "derive the gradient of the MSE", "points": 2.0}]
    assert res["extra_data"]["isolation"]["mode"] in ("bwrap", "namespace", "fallback")
    assert res["extra_data"]["grader_error"] is None


def test_untouched_release_scores_zero(tiny, tmp_path):
    rel = release(tiny, tmp_path / "rel")
    [(_, res)] = run(tiny, rel, tmp_path / "r.json")
    assert res["score"] == 0
    assert all(t["score"] == 0 for t in res["tests"])
    stub_message = "NotImplementedError: T0.1: this part of relu() is not implemented yet"
    assert stub_message in res["tests"][0]["output"]
    assert [t["output"] for t in res["tests"][-2:]] == ["no answer given", "no answer given"]


def test_written_answers_are_checked(tiny, tmp_path):
    sub = solution_dir(tiny, tmp_path, "T0.Q1: '2'\nT0.Q2: [b, c]\n")
    [(_, res)] = run(tiny, sub, tmp_path / "r.json")
    q1, q2 = res["tests"][-2:]
    assert (q1["score"], q1["output"]) == (0.0, "your answer '2': incorrect")
    assert (q2["score"], q2["output"]) == (0.0, "your answer \"['b', 'c']\": incorrect")
    assert res["score"] == 10.0
    (sub / "answers.yaml").write_text("T0.Q1: [unclosed\n")
    [(_, res)] = run(tiny, sub, tmp_path / "r2.json")
    assert res["tests"][-1]["output"].startswith("answers.yaml is not valid YAML")


def test_zip_submission_ignores_everything_but_student_files(tiny, tmp_path):
    z = tmp_path / "alice.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("A0/tinymath.py", (tiny.code_dir / "tinymath.py").read_text())
        zf.writestr("A0/conftest.py", "raise SystemExit(0)\n")
        zf.writestr("A0/helpers.py", "def as_float(x):\n    return 0\n")  # given files come from us
        zf.writestr("__MACOSX/A0/._tinymath.py", "junk")
    [(name, res)] = run(tiny, z, tmp_path / "r.json")
    assert name == "alice" and res["score"] == 10.0


def test_class_folder_gives_one_file_each_and_a_csv(tiny, tmp_path):
    klass = tmp_path / "class"
    klass.mkdir()
    shutil.copytree(SUBMISSIONS / "wrong_formula", klass / "bob")
    solved = solution_dir(tiny, tmp_path, "T0.Q1: 1\nT0.Q2: b\n")
    shutil.make_archive(str(klass / "alice"), "zip", solved)
    (klass / "carol.zip").write_bytes(b"this is not a zip")
    (klass / "notes.txt").write_text("ignored")
    out = tmp_path / "results"
    rows = run(tiny, klass, out, jobs=2)
    assert sorted(n for n, _ in rows) == ["alice", "bob", "carol"]
    assert sorted(p.name for p in out.iterdir()) == ["alice.json", "bob.json", "carol.json", "class.csv"]
    table = {r["submission"]: r for r in csv.DictReader((out / "class.csv").open())}
    assert (table["alice"]["score"], table["alice"]["status"]) == ("12.0", "ok")
    assert (table["bob"]["score"], table["bob"]["T0.1"], table["bob"]["T0.2"]) == ("6.0", "0.0", "6.0")
    assert table["carol"]["status"] == "invalid-submission"
    assert "not a readable zip" in table["carol"]["notes"]
    assert "not in the submission: answers.yaml" in table["bob"]["notes"]


def test_missing_student_file_scores_zero_with_a_note(tiny, tmp_path):
    sub = tmp_path / "empty"
    sub.mkdir()
    (sub / "answers.yaml").write_text("T0.Q1: 1\nT0.Q2: b\n")
    [(_, res)] = run(tiny, sub, tmp_path / "r.json")
    assert res["score"] == 2.0
    assert "not in the submission: tinymath.py" in res["output"]
    assert "tinymath.py is not in the submission" in res["tests"][0]["output"]


# ---------------------------------------------------------------------------- CLI bad input

def cli(*args):
    return main(["course", *map(str, args)])


def test_cli_grade_single_and_refuses_overwrite(tiny, tiny_env, tmp_path, capsys):
    sub = solution_dir(tiny, tmp_path, "T0.Q1: 1\nT0.Q2: b\n")
    out = tmp_path / "results.json"
    assert cli("grade", "T0", sub, "--out", out, "--jobs", 1) == 0
    assert json.loads(out.read_text())["score"] == 12.0
    before = out.read_bytes()
    assert cli("grade", "T0", sub, "--out", out) == 2
    err = capsys.readouterr().err
    assert "already exists; dlcc will not overwrite it" in err and "--force" in err
    assert "Traceback" not in err and out.read_bytes() == before
    assert cli("grade", "T0", sub, "--out", out, "--force") == 0


@pytest.mark.parametrize("case, message", [
    ("missing", "does not exist"),
    ("corrupt_zip", "is not a readable zip file"),
    ("traversal_zip", "climbs out of the archive"),
    ("absolute_zip", "an absolute path"),
    ("symlink_zip", "a symbolic link"),
    ("unknown_assignment", "unknown assignment 'A99'"),
    ("text_file", "neither a folder nor a .zip"),
    ("empty_class", "no submission found"),
    ("out_is_dir", "is a directory"),
    ("class_out_is_file", "is a file"),
    ("nested_with_json_out", "is read as a class folder"),
])
def test_cli_grade_bad_input(tiny, tiny_env, tmp_path, capsys, case, message):
    out = tmp_path / "r.json"
    aid = "T0"
    sub = tmp_path / "sub.zip"
    if case == "missing":
        sub = tmp_path / "nope"
    elif case == "corrupt_zip":
        sub.write_bytes(b"PK\x03\x04 truncated")
    elif case in ("traversal_zip", "absolute_zip", "symlink_zip"):
        with zipfile.ZipFile(sub, "w") as zf:
            if case == "symlink_zip":
                info = zipfile.ZipInfo("tinymath.py")
                info.external_attr = (0o120777 << 16)
                zf.writestr(info, "/etc/passwd")
            else:
                zf.writestr("../tinymath.py" if case == "traversal_zip" else "/tmp/tinymath.py", "x = 1\n")
    elif case == "unknown_assignment":
        aid, sub = "A99", solution_dir(tiny, tmp_path)
    elif case == "text_file":
        sub = tmp_path / "notes.txt"
        sub.write_text("hi")
    elif case == "empty_class":
        sub = tmp_path / "class"
        sub.mkdir()
    elif case == "out_is_dir":
        sub, out = solution_dir(tiny, tmp_path), tmp_path
    elif case == "nested_with_json_out":
        sub = tmp_path / "download"
        (sub / "A0").mkdir(parents=True)
        shutil.copyfile(tiny.code_dir / "tinymath.py", sub / "A0" / "tinymath.py")
    elif case == "class_out_is_file":
        sub, out = tmp_path / "class", tmp_path / "results"
        (sub / "alice").mkdir(parents=True)
        out.write_text("keep")
    assert cli("grade", aid, sub, "--out", out) == 2
    err = capsys.readouterr().err
    assert message in err and "fix:" in err and "Traceback" not in err
    if case == "class_out_is_file":
        assert out.read_text() == "keep"
    elif case != "out_is_dir":
        assert not out.exists()


def test_answers_file_is_data_only(tiny):
    from dlcc.course.student.quiz import grade_answers, load_key

    key = load_key(tiny)
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nT0.Q1: *b\n"
    results = grade_answers(tiny, bomb.encode(), key)
    assert all(r["score"] == 0 and "aliases" in r["output"] for r in results)
    evil = b"T0.Q1: !!python/object/apply:os.system ['echo hacked']\n"
    assert "not valid YAML" in grade_answers(tiny, evil, key)[0]["output"]
    good = grade_answers(tiny, b"T0.Q1: '1/1'\nT0.Q2: (B)\n", key)
    assert [r["score"] for r in good] == [1.0, 1.0]
