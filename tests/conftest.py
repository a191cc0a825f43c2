"""Shared test set-up.

Real datasets come from `DLCC_DATA`. When it is unset and `../shared/data` sits beside the
repository (as in CI), that folder is used. Tests marked `data` skip when no data is found,
unless `DLCC_REQUIRE_DATA=1` (set by .ci/run), where a missing dataset is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"

if not os.environ.get("DLCC_DATA") and SHARED.is_dir():
    os.environ["DLCC_DATA"] = str(SHARED)

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see dlcc/cli.py
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own empty dlcc cache, so no test sees another's downloads."""
    cache = tmp_path_factory.mktemp("dlcc-cache")
    monkeypatch.setenv("DLCC_CACHE", str(cache))
    monkeypatch.delenv("DLCC_DATA_DIR", raising=False)
    yield cache


@pytest.fixture
def shared_data() -> Path:
    """The folder of real datasets; skip (or fail in CI) when it is absent."""
    for raw in os.environ.get("DLCC_DATA", "").split(os.pathsep):
        if raw and Path(raw).is_dir():
            return Path(raw)
    if os.environ.get("DLCC_REQUIRE_DATA") == "1":
        pytest.fail("DLCC_DATA is not set or missing, and DLCC_REQUIRE_DATA=1")
    pytest.skip("real datasets not found: set DLCC_DATA=/path/to/shared/data")


@pytest.fixture
def decoded_cache(tmp_path_factory) -> Path:
    """A cache shared by the whole session for decoded real datasets (MNIST, CIFAR), so
    slow decodes happen once per test run. Use with monkeypatch.setenv('DLCC_CACHE', ...)."""
    return _SESSION_CACHE(tmp_path_factory)


_session_cache_path: list[Path] = []


def _SESSION_CACHE(factory) -> Path:
    if not _session_cache_path:
        _session_cache_path.append(factory.mktemp("dlcc-decoded"))
    return _session_cache_path[0]


@pytest.fixture(autouse=True)
def _torch_defaults():
    """Tiny CPU tensors run fastest on one torch thread (thread hand-offs dominate, and on a
    busy 2-core machine far more so); and no test may leak a changed default dtype."""
    import torch

    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    torch.set_default_dtype(dtype)
