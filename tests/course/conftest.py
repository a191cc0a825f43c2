"""Fixtures for the course pipeline tests.

`fixtures/assignments/T0` is a tiny assignment (two functions, five tests) so that release,
check and the sandboxed grader run in seconds; `fixtures/submissions/T0` holds real broken and
hostile submissions for it. Nothing under fixtures/ is a test module of this project.
"""

from __future__ import annotations

import shutil
import pytest

from dlcc.course import isolation
from dlcc.course.assignment import Assignment

from coursepaths import TINY_ROOT

collect_ignore = ["fixtures", "golden"]


@pytest.fixture
def tiny() -> Assignment:
    return Assignment.load(TINY_ROOT / "T0")


@pytest.fixture
def tiny_copy(tmp_path) -> Assignment:
    """A writable copy of T0 (under tmp_path/assignments/T0) for tests that break it."""
    root = tmp_path / "assignments"
    shutil.copytree(TINY_ROOT / "T0", root / "T0")
    return Assignment.load(root / "T0")


@pytest.fixture
def tiny_env(monkeypatch):
    """Point assignment discovery at the fixtures."""
    monkeypatch.setenv("DLCC_ASSIGNMENTS", str(TINY_ROOT))
    return TINY_ROOT


def namespace_available() -> bool:
    return isolation.probe_namespace()[0]


needs_namespace = pytest.mark.skipif(not namespace_available(),
                                     reason="namespace isolation needs root and unshare(2)")
