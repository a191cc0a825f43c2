"""Fixtures for the course pipeline tests.

`fixtures/assignments/T0` is a tiny assignment (two functions, five tests) so that release,
check and the sandboxed grader run in seconds; `fixtures/submissions/T0` holds real broken and
hostile submissions for it. Nothing under fixtures/ is a test module of this project.
"""

from __future__ import annotations

import os
import shutil

import pytest

from dlcc.course.authoring.format import Assignment
from dlcc.course.sandbox import launch, namespace

from coursepaths import TINY_ROOT

collect_ignore = ["fixtures"]


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


MODES = ["bwrap", "namespace", "fallback"]


def mode_available(mode: str) -> tuple[bool, str]:
    if mode == "bwrap":
        return launch.probe_bwrap()
    if mode == "namespace":
        return namespace.probe()
    return True, "always"


def skip_unless_available(mode: str) -> None:
    """Skip where this machine cannot run `mode`, except bwrap in CI (DLCC_REQUIRE_SANDBOX=1,
    set by .ci/run, which installs bubblewrap): there a missing bwrap is a failure."""
    ok, why = mode_available(mode)
    if not ok:
        if mode == "bwrap" and os.environ.get("DLCC_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"{mode} isolation is required here but not available: {why}")
        pytest.skip(f"{mode} isolation is not available here: {why}")


@pytest.fixture(scope="session")
def fresh_env(tmp_path_factory):
    """(venv, wheel): dlcc's wheel installed in a fresh environment (built once per session)."""
    import freshenv

    return freshenv.make(tmp_path_factory.mktemp("fresh-env"))
