"""The course site, built once per test session with `mkdocs build --strict`.

Lecture figures come from the companion cache that tests/lectures fills (same folder under
pytest's session temp), so a full test run executes each companion once. Without mkdocs the
site tests skip, except in CI (DLCC_REQUIRE_DATA=1), where a missing docs extra is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _require_or_skip(what: str, fix: str):
    if os.environ.get("DLCC_REQUIRE_DATA") == "1":
        pytest.fail(f"{what} (DLCC_REQUIRE_DATA=1): {fix}")
    pytest.skip(f"{what}: {fix}")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    try:
        import mathjax  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError:
        _require_or_skip("mkdocs or the MathJax wheel is not installed", "pip install -e '.[docs]'")
    site = tmp_path_factory.mktemp("site")
    env = dict(os.environ, DLCC_DOCS_CACHE=str(tmp_path_factory.getbasetemp() / "lecture-cache"),
               NO_MKDOCS_2_WARNING="1", OMP_WAIT_POLICY="PASSIVE")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"),
                           "-d", str(site)], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return site
