"""A tiny finished cifar10-fast run to export (tests/tiny_runs.py)."""

from __future__ import annotations

import pytest
import tiny_runs


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    return tiny_runs.fast_run(tmp_path_factory.mktemp("runs") / "fast")
