"""Served models for the API tests: a tiny cifar10-fast run (classification), a tiny isbi-unet
run (segmentation, real ISBI slices) and the shipped R-peak detector."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tiny_runs

pytest.importorskip("fastapi")


@pytest.fixture(scope="session")
def fast_run(tmp_path_factory) -> Path:
    return tiny_runs.fast_run(tmp_path_factory.mktemp("serve-runs") / "fast")


@pytest.fixture(scope="session")
def image_client(fast_run):
    from fastapi.testclient import TestClient

    from dlcc.serve import create_app

    return TestClient(create_app(fast_run, max_bytes=300_000, max_pixels=1_000_000))


@pytest.fixture(scope="session")
def ecg_client():
    from fastapi.testclient import TestClient

    from dlcc.serve import create_app

    return TestClient(create_app("ecg-rpeak", shipped=True))


@pytest.fixture(scope="session")
def mitbih() -> Path:
    for raw in os.environ.get("DLCC_DATA", "").split(os.pathsep):
        if raw and (Path(raw) / "mitbih" / "100.hea").is_file():
            return Path(raw) / "mitbih"
    if os.environ.get("DLCC_REQUIRE_DATA") == "1":
        pytest.fail("DLCC_DATA is not set or missing, and DLCC_REQUIRE_DATA=1")
    pytest.skip("real datasets not found: set DLCC_DATA=/path/to/shared/data")
