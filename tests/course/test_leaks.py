"""`course check` finds the answer key and hidden tests in anything students get: the rules
for numbers, choices, text answers and hidden test lines, and the whole repository."""

import pytest

from dlcc.course.authoring import leaks
from dlcc.course.authoring.check import check
from dlcc.course.authoring.discovery import list_assignments
from dlcc.course.authoring.format import Assignment
from dlcc.course.student import quiz

from coursepaths import REPO

KEY_YAML = """T0.Q1: {answer: 1}
T0.Q2: {answer: b}
T0.Q4: {answer: 4096}
T0.Q5: {answer: [17, 643, 3]}
T0.Q6: {answer: vanishing gradient}
T0.Q7: {answer: 0.1625, tolerance: 0.001}
"""
EXTRA = """  - {id: T0.Q4, title: "a count", points: 1, kind: numeric}
  - {id: T0.Q5, title: "a shape", points: 1, kind: numeric}
  - {id: T0.Q6, title: "a name", points: 1, kind: text}
  - {id: T0.Q7, title: "a loss", points: 1, kind: numeric}
"""


@pytest.fixture
def keyed(tiny_copy):
    """T0 with four more auto-checked questions and their key."""
    spec = tiny_copy.root / "assignment.yaml"
    spec.write_text(spec.read_text().replace("limits:", EXTRA + "limits:", 1))
    tiny_copy.answers_path.write_text(KEY_YAML)
    a = Assignment.load(tiny_copy.root)
    return a, quiz.load_key(a)


@pytest.mark.parametrize("text, found", [
    ("the network has 4096 parameters", "contains 4096, which the grader accepts as the answer to T0.Q4"),
    ("4,096 weights", "contains 4,096"),
    ("4096.0", "contains 4096.0"),
    ("0.1627 nats", "contains 0.1627"),        # within the key's tolerance
    ("the output is [17, 643, 3]", "contains 17, 643, 3"),
    ("17x643x3", "contains 17x643x3"),
    ("T0.Q2: {answer: b}", "gives the answer to T0.Q2"),
    ("Q2 = b", "gives the answer to T0.Q2"),
    ("**T0.Q2** is (b)", "gives the answer to T0.Q2"),
    ("This is the Vanishing  Gradient problem", "contains 'vanishing gradient', the answer to T0.Q6"),
])
def test_leaks_found(keyed, text, found):
    a, key = keyed
    problems, _ = leaks.answer_leaks(a, key, {"docs/x.md": text})
    assert any(found in p for p in problems), problems
    assert problems[0].startswith("docs/x.md:1: ")


@pytest.mark.parametrize("text", [
    "4000 steps, 409 units, 40960 bytes",       # other numbers
    "643 channels",                             # one element of a list answer
    "T0.Q2 (choice, 1 point). (a) ReLU (b) sigmoid (c) identity",   # the question itself
    "T0.Q2: null   # choice (a, b, c), 1 point",                    # the answers template
    "0.25 and 1 and 3",                          # short numbers are not searched
    "gradients vanish",
])
def test_no_false_alarm(keyed, text):
    a, key = keyed
    assert leaks.answer_leaks(a, key, {"docs/x.md": text}) == ([], [])


def test_coincidences_allowed_by_the_key(keyed):
    a, key = keyed
    key["T0.Q4"]["coincidences"] = ["dlcc/lectures/*"]
    problems, allowed = leaks.answer_leaks(a, key, {"dlcc/lectures/l1.py": "size = 4096",
                                                    "docs/x.md": "4096"})
    assert [p.split(":")[0] for p in problems] == ["docs/x.md"]
    assert [p.split(":")[0] for p in allowed] == ["dlcc/lectures/l1.py"]


def test_hidden_test_lines(tiny):
    hidden = (tiny.hidden_tests_dir / "test_tiny_hidden.py").read_text().splitlines()
    pasted = "\n".join(hidden[8:12])   # a test's def line and body
    problems = leaks.hidden_test_leaks(tiny, {}, {"docs/x.md": "intro\n" + pasted + "\n"})
    assert problems and all("hidden test hidden/tests/test_tiny_hidden.py" in p for p in problems)
    lone = next(line for line in hidden if line.strip().startswith("rng = "))
    assert leaks.hidden_test_leaks(tiny, {}, {"x.py": lone}) == []  # one ordinary line: an idiom


def test_check_fails_on_a_leak_in_the_release(keyed):
    a, _ = keyed
    a.questions_path.write_text(a.questions_path.read_text() + "\nHint: it is 4096.\n")
    report = check(a, run_tests=False, progress=lambda m: None)
    assert any("release/questions.md" in p and "T0.Q4" in p for p in report.problems), report.problems


@pytest.mark.parametrize("a", list_assignments(REPO / "assignments"), ids=lambda a: a.id)
def test_repository_gives_no_key_away(a):
    """The release, the installed package (shipped releases included) and docs/ of A1-A4."""
    report = check(a, run_tests=False, progress=lambda m: None)
    assert report.problems == [], "\n".join(report.problems)
