"""`dlcc lecture list | run | quiz` from the command line, including every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dlcc.cli import main


def test_list_names_every_lecture_and_none_is_still_coming(capsys):
    assert main(["lecture", "list"]) == 0
    out = capsys.readouterr().out
    for lecture_id in ("prologue", "L1", "L9", "L10", "L11", "L12", "math", "closing"):
        assert lecture_id in out
    assert "coming with A5" not in out


def test_list_json(capsys):
    assert main(["lecture", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ready = [r for r in rows if r["companion"]]
    assert len(ready) == 15 and all(r["questions"] >= 3 for r in ready)


@pytest.mark.parametrize("args,needle", [
    (["lecture", "run", "L99"], "no lecture called 'L99'"),
    (["lecture", "quiz", "L99"], "no lecture called 'L99'"),
    (["lecture", "quiz", "L12", "--answer", "Q5=collapse"], "Q5: 'collapse' is not a number"),
    (["lecture", "quiz", "L10", "--answer", "Q3=far"], "Q3: 'far' is not a number"),
    (["lecture", "quiz", "L11", "--answer", "Q1=E"], "Q1: 'E' is not an option"),
    (["lecture", "quiz", "L3", "--answer", "Q1=abc"], "Q1: 'abc' is not a number"),
    (["lecture", "quiz", "L3", "--answer", "Q3=Z"], "Q3: 'Z' is not an option"),
    (["lecture", "quiz", "L3", "--answer", "Q9=1"], "no question 'Q9'"),
    (["lecture", "quiz", "L3", "--answer", "Q1"], "is not Q=ANSWER"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, needle):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and "fix:" in err


def test_unwritable_out_is_refused(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    assert main(["lecture", "run", "math", "--quick", "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot create output directory" in err and "Traceback" not in err
    assert blocker.read_text() == "mine"


def test_out_holding_other_files_is_not_overwritten(capsys, tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "output.txt").write_text("my notes")
    assert main(["lecture", "run", "math", "--quick", "--out", str(out)]) == 2
    assert "will not overwrite" in capsys.readouterr().err
    assert (out / "output.txt").read_text() == "my notes"


def test_another_lectures_output_folder_is_refused(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["lecture", "run", "math", "--quick", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["lecture", "run", "L6", "--quick", "--out", str(out)]) == 2
    assert "another lecture's companion output" in capsys.readouterr().err


def test_run_writes_figures_numbers_and_output_and_can_rerun(capsys, tmp_path):
    out = tmp_path / "math"
    assert main(["lecture", "run", "math", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "figure softmax_jacobian.png" in printed and "done in" in printed
    numbers = json.loads((out / "numbers.json").read_text())
    assert numbers["binary_max_rel_diff"] < 1e-10
    assert (out / "output.txt").read_text().startswith("math:")
    assert main(["lecture", "run", "math", "--quick", "--out", str(out)]) == 0   # same lecture: allowed


def test_quiz_with_answers_explains_and_scores(capsys):
    assert main(["lecture", "quiz", "L3", "--answer", "Q1=85", "--answer", "q2=100"]) == 0
    out = capsys.readouterr().out
    assert "Q1: right" in out and "the answer is 37" in out and "1 of 5 right" in out


def test_quiz_json(capsys):
    assert main(["lecture", "quiz", "L6", "--json", "--answer", "Q1=67", "--answer", "Q4=B"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["score"] == 2 and report["total"] == 5
    answered = [r for r in report["results"] if r["answered"]]
    assert {r["id"] for r in answered} == {"Q1", "Q4"} and all(r["explain"] for r in report["results"])


def test_quiz_interactive_reprompts_on_bad_form_and_stops_at_end_of_input():
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    proc = subprocess.run([sys.executable, "-m", "dlcc", "lecture", "quiz", "L3"],
                          input="85\nabc\n37\n", capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("right") >= 2 and "'abc' is not a number; try again" in out
    assert "2 of 5 right" in out and "Traceback" not in proc.stderr


def test_later_lecture_quizzes_score_their_own_keys(capsys):
    assert main(["lecture", "quiz", "L10", "--json", "--answer", "Q3=5/2", "--answer", "Q4=ba"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["score"] == 1 and report["total"] == 5      # Q3 right; Q4 wants A, B and D only
    assert main(["lecture", "quiz", "L11", "--answer", "Q2=3.92", "--answer", "Q5=A"]) == 0
    out = capsys.readouterr().out
    assert "Q2: right" in out and "1 of 5 right" in out
