"""Bad input to `dlcc sweep`: a clear message naming the file/value and the fix, exit 2, no
traceback, and nothing written (no sweep directory, the user's files untouched)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlcc.cli import main

GOOD = """
metric: val_loss
parameters:
  x: {type: float, low: -3, high: 3}
"""


def _sweep(tmp_path: Path, capsys, space_text: str | None = GOOD, extra: list[str] | None = None,
           recipe: str = "quadratic") -> tuple[int, str, Path]:
    space = tmp_path / "space.yaml"
    if space_text is not None:
        space.write_text(space_text)
    out = tmp_path / "sweep"
    args = ["sweep", recipe, "--space", str(space), "--trials", "2", "--out", str(out)] + (extra or [])
    code = main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if space_text is not None:
        assert space.read_text() == space_text  # the user's file is untouched
    return code, captured.err, out


def test_missing_space_file(test_recipes, tmp_path, capsys):
    code, err, out = _sweep(tmp_path, capsys, space_text=None)
    assert code == 2 and "search space file" in err and "does not exist" in err and "fix:" in err
    assert not out.exists()


def test_invalid_yaml_names_the_line(test_recipes, tmp_path, capsys):
    code, err, out = _sweep(tmp_path, capsys, "parameters:\n  x: {type: float, low: -3, high: 3\n  y: 1\n")
    assert code == 2 and "invalid YAML at line 3" in err and str(tmp_path / "space.yaml") in err
    assert not out.exists()


def test_unknown_parameter_key(test_recipes, tmp_path, capsys):
    code, err, out = _sweep(tmp_path, capsys, GOOD + "  z_typo: {values: [1, 2]}\n")
    assert code == 2
    assert "line 5: parameter 'z_typo' does not fit recipe 'quadratic': unknown setting 'z_typo'" in err
    assert "--show` lists every setting" in err
    assert not out.exists()


def test_value_of_the_wrong_type(test_recipes, tmp_path, capsys):
    code, err, out = _sweep(tmp_path, capsys, GOOD + "  epochs: {values: [2, many]}\n")
    assert code == 2 and "parameter 'epochs'" in err and "epochs takes whole number" in err
    assert not out.exists()


def test_binary_space_file(test_recipes, tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    code = main(["sweep", "quadratic", "--space", str(space), "--trials", "2", "--out", str(tmp_path / "sweep")])
    err = capsys.readouterr().err
    assert code == 2 and "is not a text (UTF-8 YAML) file" in err and "Traceback" not in err
    assert not (tmp_path / "sweep").exists()


def test_test_metric_is_refused(test_recipes, tmp_path, capsys):
    code, err, out = _sweep(tmp_path, capsys, GOOD.replace("val_loss", "{name: accu_test, goal: maximize}"))
    assert code == 2 and "measured on the test split" in err and "val_accuracy" in err
    assert not out.exists()


@pytest.mark.parametrize("url,message", [
    ("nosuchdb://host/db", "uses 'nosuchdb'"),
    ("not a url", "is not a database URL"),
    ("sqlite://", "names no database file"),
    ("sqlite:////no/such/dir/study.db", "directory /no/such/dir does not exist"),
])
def test_bad_storage_url(test_recipes, tmp_path, capsys, url, message):
    code, err, out = _sweep(tmp_path, capsys, extra=["--storage", url])
    assert code == 2 and message in err and "fix:" in err
    assert not out.exists()


def test_unreachable_storage_hides_the_password(test_recipes, tmp_path, capsys):
    url = "postgresql+psycopg://me:secret@127.0.0.1:1/optuna"  # nothing listens on port 1
    code, err, out = _sweep(tmp_path, capsys, extra=["--storage", url])
    assert code == 2 and "cannot reach the study storage" in err and "secret" not in err and "***" in err
    assert not out.exists()


def test_unknown_recipe(test_recipes, tmp_path, capsys):
    code, err, out = _sweep(tmp_path, capsys, recipe="quadratik")
    assert code == 2 and "unknown recipe 'quadratik'" in err and "did you mean quadratic" in err
    assert not out.exists()


@pytest.mark.parametrize("trials", ["0", "-3"])
def test_trials_must_be_positive(test_recipes, tmp_path, capsys, trials):
    space = tmp_path / "space.yaml"
    space.write_text(GOOD)
    code = main(["sweep", "quadratic", "--space", str(space), "--trials", trials, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and f"--trials must be a whole number >= 1, got {trials}" in err
    assert not (tmp_path / "o").exists()


def test_unknown_tracker(test_recipes, tmp_path, capsys):
    code, err, out = _sweep(tmp_path, capsys, extra=["--tracker", "tensorbored"])
    assert code == 2 and "unknown tracker 'tensorbored'" in err
    assert not out.exists()


def test_searched_and_set_at_once(test_recipes, tmp_path, capsys):
    code, err, out = _sweep(tmp_path, capsys, extra=["--set", "x=1"])
    assert code == 2 and "'x' is both searched and fixed by --set" in err
    assert not out.exists()


def test_foreign_output_directory_is_not_touched(test_recipes, tmp_path, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, err, _ = _sweep(tmp_path, capsys)
    assert code == 2 and "already holds files" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_other_sweep_in_the_directory_is_refused(test_recipes, tmp_path, capsys):
    code, _, out = _sweep(tmp_path, capsys, extra=["--no-final"])
    assert code == 0
    code, err, _ = _sweep(tmp_path, capsys, GOOD + "  y: {type: float, low: 0, high: 1}\n", extra=["--no-final"])
    assert code == 2 and "holds another sweep" in err


def test_metric_the_recipe_does_not_report(test_recipes, tmp_path, capsys):
    code, err, out = _sweep(tmp_path, capsys, GOOD.replace("val_loss", "val_dice"))
    assert code == 2 and "'val_dice'" in err and "val_loss" in err  # names what is reported
