"""Tiny finished runs to attack (tests/tiny_runs.py)."""

from __future__ import annotations

import pytest
import tiny_runs


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    return tiny_runs.fast_run(tmp_path_factory.mktemp("runs") / "fast")


@pytest.fixture(scope="module")
def mnist1d_run(tmp_path_factory):
    return tiny_runs.mnist1d_run(tmp_path_factory.mktemp("runs") / "mnist1d")
