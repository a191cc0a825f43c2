"""Solution markers: regions, stubs, and every way markers can be broken."""

import ast

import pytest

from dlcc.course.authoring.markers import parse_regions, strip_solutions

GOOD = '''import numpy as np


def f(x):
    y = 2 * x
    # === BEGIN SOLUTION A9.1 ===
    # HINT: square it
    out = y ** 2
    # === END SOLUTION ===
    return out


# === BEGIN SOLUTION A9.2 ===
CONSTANT = 3
# === END SOLUTION ===
'''


def test_regions_and_stubs():
    regions, problems = parse_regions(GOOD, "m.py")
    assert problems == []
    assert [(r.task, r.begin, r.end, r.function) for r in regions] == [
        ("A9.1", 6, 9, "f"), ("A9.2", 13, 15, "module level code")]
    released = strip_solutions(GOOD, regions)
    assert "out = y ** 2" not in released and "CONSTANT = 3" not in released
    assert "BEGIN SOLUTION" not in released and "END SOLUTION" not in released
    assert '    raise NotImplementedError("A9.1: this part of f() is not implemented yet")' in released
    assert "    # HINT: square it" in released and "    # TODO (A9.1): your code here" in released
    assert 'raise NotImplementedError("A9.2: this part of module level code' in released
    ast.parse(released)  # still a valid module
    namespace = {}
    with pytest.raises(NotImplementedError, match="A9.2"):
        exec(compile(released, "m.py", "exec"), namespace)


@pytest.mark.parametrize("text, message", [
    ("# === BEGIN SOLUTION A9.1 ===\nx = 1\n", "never closed"),
    ("x = 1\n# === END SOLUTION ===\n", "without a BEGIN"),
    ("# === BEGIN SOLUTION A9.1 ===\n# === BEGIN SOLUTION A9.2 ===\nx = 1\n# === END SOLUTION ===\n",
     "cannot nest"),
    ("# === BEGIN SOLUTON A9.1 ===\nx = 1\n", "malformed solution marker"),
    ("#=== END SOLUTION ===\n", "malformed solution marker"),
    ("def f():\n    # === BEGIN SOLUTION A9.1 ===\n    x = 1\n# === END SOLUTION ===\n",
     "indented differently"),
    ("# === BEGIN SOLUTION A9.1 ===\n# only a comment\n# === END SOLUTION ===\n", "holds no code"),
    ("if True:\n    # === BEGIN SOLUTION A9.1 ===\n    x = (1 +\n    # === END SOLUTION ===\n        2)\n",
     "not a block of complete statements"),
])
def test_broken_markers_are_reported_with_line(text, message):
    _, problems = parse_regions(text, "bad.py")
    assert problems, "expected a problem"
    assert any(message in str(p) for p in problems), [str(p) for p in problems]
    assert str(problems[0]).startswith("bad.py:")
