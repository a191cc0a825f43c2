"""assignment.yaml: parsing, validation messages, and where assignments are found."""

import pytest

from dlcc.course.authoring.discovery import find_assignments_root, get_assignment, list_assignments
from dlcc.course.authoring.format import Assignment
from dlcc.errors import ConfigError

from coursepaths import REPO, TINY_ROOT


def write(tmp_path, text):
    d = tmp_path / "A9"
    d.mkdir(exist_ok=True)
    (d / "assignment.yaml").write_text(text)
    return d


def test_tiny_assignment_loads(tiny):
    assert tiny.id == "T0" and tiny.task_ids == ["T0.1", "T0.2"] and tiny.code_points == 10
    assert [q.kind for q in tiny.questions] == ["numeric", "choice", "manual"]
    assert tiny.limits.test_timeout_s == 3 and tiny.limits.memory_mb == 700
    assert tiny.code_dir == TINY_ROOT / "T0" / "src" and not tiny.released


@pytest.mark.parametrize("text, message", [
    ("title: x\nstudent_files: [a.py]\ntasks: []\n", "'id' is missing"),
    ("id: A9\ntitle: x\nstudent_files: a.py\ntasks: []\n", "'student_files' should be a list"),
    ("id: A9\ntitle: x\nstudent_files: [a.py]\ntasks: [{id: A9.1}]\n", "needs `id` and `points`"),
    ("id: A9\ntitle: x\nstudent_files: [a.py]\ntasks: [{id: B1.1, points: 1}]\n", "should look like A9.1"),
    ("id: A9\ntitle: x\nstudent_files: [a.py]\ntasks: [{id: A9.1, points: -1}]\n", "must be a number >= 0"),
    ("id: A9\ntitle: x\nstudent_files: [a.py]\ntasks: [{id: A9.1, points: 1}, {id: A9.1, points: 2}]\n",
     "appears twice"),
    ("id: A9\ntitle: x\nstudent_files: [../a.py]\ntasks: []\n", "plain file name"),
    ("id: A9\ntitle: x\nstudent_files: [a.txt]\ntasks: []\n", "must be a .py file"),
    ("id: A9\ntitle: x\nstudent_files: [a.py]\ntasks: []\nlimits: {memory: 5}\n", "unknown limit"),
    ("id: A9\ntitle: x\nstudent_files: [a.py]\ntasks: []\nlimits: {memory_mb: 0}\n", "positive number"),
    ("id: A9\ntitle: x\nstudent_files: [a.py]\ntasks: []\nquestions: [{id: A9.Q1, points: 1, kind: essay}]\n",
     "kind 'essay'"),
    ("id: A9\ntitle: x\nstudent_files: [a.py]\ntasks: []\nvisibility: {hidden: secret}\n", "visibility"),
    ("id: [unclosed\n", "not valid YAML"),
])
def test_bad_assignment_yaml_names_file_and_key(tmp_path, text, message):
    d = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        Assignment.load(d)
    assert message in str(err.value) and "assignment.yaml" in str(err.value)
    assert err.value.fix


def test_discovery_order(tmp_path, monkeypatch):
    monkeypatch.delenv("DLCC_ASSIGNMENTS", raising=False)
    assert find_assignments_root(TINY_ROOT) == TINY_ROOT
    monkeypatch.setenv("DLCC_ASSIGNMENTS", str(TINY_ROOT))
    assert find_assignments_root() == TINY_ROOT
    monkeypatch.delenv("DLCC_ASSIGNMENTS")
    (tmp_path / "assignments" / "X1").mkdir(parents=True)
    (tmp_path / "assignments" / "X1" / "assignment.yaml").write_text("id: X1\n")
    (tmp_path / "deep").mkdir()
    monkeypatch.chdir(tmp_path / "deep")
    assert find_assignments_root() == (tmp_path / "assignments").resolve()
    monkeypatch.chdir("/")
    assert find_assignments_root() == REPO / "assignments"  # beside the source tree
    with pytest.raises(ConfigError, match="not a directory"):
        find_assignments_root(tmp_path / "nope")


def test_get_assignment_unknown_and_mismatched(tmp_path):
    with pytest.raises(ConfigError, match="unknown assignment 'A7'.*known: T0"):
        get_assignment("A7", TINY_ROOT)
    with pytest.raises(ConfigError, match="unknown assignment"):
        get_assignment("../T0", TINY_ROOT)
    d = tmp_path / "A9"
    d.mkdir()
    (d / "assignment.yaml").write_text("id: A8\ntitle: x\nstudent_files: [a.py]\ntasks: []\n")
    with pytest.raises(ConfigError, match="says id 'A8' but its folder is 'A9'"):
        get_assignment("A9", tmp_path)


def test_list_assignments_in_repo():
    ids = [a.id for a in list_assignments(REPO / "assignments")]
    assert "A1" in ids
    assert [a.id for a in list_assignments(TINY_ROOT)] == ["T0"]
