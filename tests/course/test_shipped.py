"""The student releases shipped in the package (what `pip install dlcc` gives a student)
are exactly what `dlcc course release` makes from the sources, and `dlcc course get` copies
them out without ever overwriting a student's work."""

from pathlib import Path

import pytest

from dlcc.cli import main
from dlcc.course.authoring.discovery import list_assignments, packaged_root
from dlcc.course.authoring.release import release

from coursepaths import REPO

ASSIGNMENTS = {a.id: a for a in list_assignments(REPO / "assignments")}


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.parametrize("aid", sorted(ASSIGNMENTS))
def test_shipped_release_matches_the_sources(aid, tmp_path):
    fresh = tree(release(ASSIGNMENTS[aid], tmp_path / aid))
    shipped = tree(packaged_root() / aid)
    fix = f"run `dlcc course release {aid} --package` and commit src/dlcc/course/releases/{aid}"
    assert sorted(shipped) == sorted(fresh), f"file lists differ; {fix}"
    for name in fresh:
        assert shipped[name] == fresh[name], f"{name} differs; {fix}"


def test_every_assignment_is_shipped():
    shipped = {p.name for p in packaged_root().iterdir() if (p / "assignment.yaml").is_file()}
    assert shipped == set(ASSIGNMENTS)


def test_a1_release_holds_exactly_the_student_side():
    assert sorted(tree(packaged_root() / "A1")) == [
        "a1_mlp_3_layers.py", "a1_mlp_N_layers.py", "answers.yaml", "assignment.yaml", "conftest.py",
        "questions.md", "tests/test_a1_3_layers.py", "tests/test_a1_N_layers.py", "util.py",
        "written_answers.md"]


def cli(*args):
    return main(["course", *map(str, args)])


def test_get_copies_the_release_and_keeps_a_students_work(tmp_path, capsys):
    out = tmp_path / "A1"
    assert cli("get", "A1", "--out", out) == 0
    assert tree(out) == tree(packaged_root() / "A1")
    assert cli("get", "A1", "--out", out) == 2  # not without --force
    assert "already holds files" in capsys.readouterr().err
    assert cli("get", "A1", "--out", out, "--force") == 0  # untouched: replaced quietly
    assert not (tmp_path / "A1.old-1").exists()
    (out / "a1_mlp_3_layers.py").write_text("# my work\n")
    (out / "notes.txt").write_text("my notes")
    capsys.readouterr()
    assert cli("get", "A1", "--out", out, "--force") == 0
    printed = capsys.readouterr().out
    kept = tmp_path / "A1.old-1"
    assert f"moved to {kept}" in printed
    assert (kept / "a1_mlp_3_layers.py").read_text() == "# my work\n"
    assert (kept / "notes.txt").read_text() == "my notes"
    assert tree(out) == tree(packaged_root() / "A1")


def test_release_force_moves_a_students_work_aside(tiny_env, tmp_path, capsys):
    out = tmp_path / "T0"
    assert cli("release", "T0", "--out", out) == 0
    (out / "answers.yaml").write_text("T0.Q1: 1\n")
    capsys.readouterr()
    assert cli("release", "T0", "--out", out, "--force") == 0
    assert f"moved to {tmp_path / 'T0.old-1'}" in capsys.readouterr().out
    assert (tmp_path / "T0.old-1" / "answers.yaml").read_text() == "T0.Q1: 1\n"


@pytest.mark.parametrize("args, message", [
    (["get", "A99", "--out", "{tmp}/x"], "unknown assignment 'A99'"),
    (["get", "A1", "--out", "{tmp}/file.txt"], "exists and is a file"),
    (["get", "A1", "--out", "{tmp}/thesis", "--force"], "not a dlcc release"),
])
def test_get_bad_input(tmp_path, capsys, args, message):
    (tmp_path / "file.txt").write_text("keep")
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter1.tex").write_text("precious")
    assert cli(*[a.format(tmp=tmp_path) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and "fix:" in err and "Traceback" not in err
    assert (tmp_path / "file.txt").read_text() == "keep"
    assert (tmp_path / "thesis" / "chapter1.tex").read_text() == "precious"


def test_outside_a_clone_list_shows_the_shipped_assignments(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DLCC_ASSIGNMENTS", raising=False)
    import dlcc.course.authoring.discovery as discovery

    monkeypatch.setattr(discovery, "_beside_source", lambda: tmp_path / "no-clone")
    assert cli("list") == 0
    out = capsys.readouterr().out
    assert "shipped with dlcc" in out and "A1" in out and "A4" in out
    assert cli("grade", "A1", tmp_path, "--out", tmp_path / "r.json") == 2
    assert "holds only the student releases" in capsys.readouterr().err
