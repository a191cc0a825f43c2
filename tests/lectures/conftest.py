"""Companion runs shared by the lecture tests and the site tests: each companion runs once per
test session, in its quick setting, into a cache under pytest's session temp folder (the site
build in tests/docs reads the same cache, so nothing runs twice)."""

from __future__ import annotations

import io

import pytest

from dlcc.lectures import LECTURES
from dlcc.lectures.cache import cached_run, load_cached

AVAILABLE = [lec for lec in LECTURES if lec.available]


def lecture_cache(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "lecture-cache"


@pytest.fixture(scope="session")
def companion_run(tmp_path_factory):
    """lecture id -> (folder, cached meta with figures, numbers, output); runs on first use."""
    root = lecture_cache(tmp_path_factory)
    runs: dict = {}

    def get(lecture_id: str):
        if lecture_id not in runs:
            lecture = next(lec for lec in AVAILABLE if lec.id == lecture_id)
            folder = cached_run(lecture, root, quick=True, stream=io.StringIO())
            runs[lecture_id] = (folder, load_cached(folder))
        return runs[lecture_id]

    return get
