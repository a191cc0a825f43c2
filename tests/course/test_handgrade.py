"""Hand-graded points: a CSV template from the class results, merged back into results.json,
class.csv and the class report; bad CSVs are refused whole."""

import csv
import json
import shutil

import pytest

from dlcc.cli import main

from coursepaths import SUBMISSIONS


def cli(*args):
    return main(["course", *map(str, args)])


@pytest.fixture
def results(tiny, tiny_env, tmp_path, capsys):
    klass = tmp_path / "class"
    shutil.copytree(SUBMISSIONS / "wrong_formula", klass / "bob")
    (klass / "alice").mkdir()
    shutil.copyfile(tiny.code_dir / "tinymath.py", klass / "alice" / "tinymath.py")
    (klass / "alice" / "answers.yaml").write_text("T0.Q1: 1\nT0.Q2: b\n")
    (klass / "alice" / "written_answers.md").write_text("## T0.Q3\n\n2 (y_hat - y) / n\n")
    assert cli("grade", "T0", klass, "--out", tmp_path / "res", "--jobs", 2) == 0
    capsys.readouterr()
    return tmp_path / "res"


def test_template_then_merge(results, tmp_path, capsys):
    assert (results / "alice.written.md").read_text().startswith("## T0.Q3")
    table = {r["submission"]: r for r in csv.DictReader((results / "class.csv").open())}
    assert table["alice"]["T0.Q3"] == "pending" and table["alice"]["score"] == "12.0"
    sheet = tmp_path / "scores.csv"
    assert cli("handgrade", "T0", results, "--template", sheet) == 0
    assert sheet.read_text().splitlines() == ["submission,T0.Q3 (max 2),comment", "alice,,", "bob,,"]
    sheet.write_text('submission,T0.Q3 (max 2),comment\nalice,1.5,"missing the 1/n"\nbob,,\n')
    assert cli("handgrade", "T0", results, "--merge", sheet) == 0
    alice = json.loads((results / "alice.json").read_text())
    assert alice["score"] == 13.5
    manual = [t for t in alice["tests"] if "manual" in t["tags"]]
    assert [(t["number"], t["score"], t["max_score"], t["output"]) for t in manual] == [
        ("T0.Q3", 1.5, 2.0, "missing the 1/n")]
    assert "hand-graded questions included" in alice["output"]
    bob = json.loads((results / "bob.json").read_text())
    assert bob["score"] == 6.0 and "hand-graded questions pending: T0.Q3" in bob["output"]
    table = {r["submission"]: r for r in csv.DictReader((results / "class.csv").open())}
    assert (table["alice"]["T0.Q3"], table["alice"]["score"]) == ("1.5", "13.5")
    assert table["bob"]["T0.Q3"] == "pending"
    sheet.write_text("submission,T0.Q3,comment\nalice,2,\n")  # merging again replaces
    assert cli("handgrade", "T0", results, "--merge", sheet) == 0
    assert json.loads((results / "alice.json").read_text())["score"] == 14.0
    sheet.write_text("submission,comment\nalice,seen\n")  # no T0.Q3 column: its points stay
    assert cli("handgrade", "T0", results, "--merge", sheet) == 0
    assert json.loads((results / "alice.json").read_text())["score"] == 14.0
    sheet.write_text("submission,T0.Q3,comment\nalice,,\n")  # a blank cell: pending again
    assert cli("handgrade", "T0", results, "--merge", sheet) == 0
    alice = json.loads((results / "alice.json").read_text())
    assert alice["score"] == 12.0 and "hand-graded questions pending: T0.Q3" in alice["output"]
    assert not [t for t in alice["tests"] if "manual" in t["tags"]]
    sheet.write_text("submission,T0.Q3,comment\nalice,2,\n")
    assert cli("handgrade", "T0", results, "--merge", sheet) == 0
    assert cli("report", results, "--out", tmp_path / "rep") == 0
    assert "| T0.Q3 |" in (tmp_path / "rep" / "report.md").read_text()


@pytest.mark.parametrize("sheet, message", [
    ("submission,T0.Q3,comment\ncarol,1,\n", "no results for submission 'carol'"),
    ("submission,T0.Q3,comment\nalice,3,\n", "T0.Q3 score 3 is outside 0..2"),
    ("submission,T0.Q3,comment\nalice,-1,\n", "outside 0..2"),
    ("submission,T0.Q3,comment\nalice,good,\n", "T0.Q3 score 'good' is not a number"),
    ("submission,T0.Q9,comment\nalice,1,\n", "column 2 ('T0.Q9') is not a hand-graded question"),
    ("name,T0.Q3\nalice,1\n", "the first column must be `submission`"),
    ("submission,T0.Q3\nalice,1\nalice,2\n", "appears twice"),
])
def test_merge_bad_input_changes_nothing(results, tmp_path, capsys, sheet, message):
    before = {p.name: p.read_bytes() for p in results.iterdir()}
    path = tmp_path / "scores.csv"
    path.write_text(sheet)
    assert cli("handgrade", "T0", results, "--merge", path) == 2
    err = capsys.readouterr().err
    assert message in err and "fix:" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in results.iterdir()} == before


def test_handgrade_cli_misuse(results, tmp_path, capsys):
    assert cli("handgrade", "T0", results) == 2
    assert "exactly one of --template" in capsys.readouterr().err
    (tmp_path / "s.csv").write_text("mine")
    assert cli("handgrade", "T0", results, "--template", tmp_path / "s.csv") == 2
    assert "already exists" in capsys.readouterr().err and (tmp_path / "s.csv").read_text() == "mine"
    assert cli("handgrade", "T0", tmp_path / "nowhere", "--template", tmp_path / "t.csv") == 2
    assert "is not a folder of results" in capsys.readouterr().err
