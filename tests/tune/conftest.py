"""Fixtures for sweep tests: the test recipes, and a real PostgreSQL server.

`postgres_url` uses `DLCC_TEST_POSTGRES_URL` when set (CI: .ci/services starts the server).
Otherwise it starts its own throw-away server with the Debian binaries
(/usr/lib/postgresql/*/bin/initdb) on a free port of 127.0.0.1, and stops it at the end.
With neither, tests that need it skip with the reason, or fail when DLCC_REQUIRE_DATA=1 (CI).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # sweep_recipes.py

import sweep_recipes  # noqa: E402

NO_SERVER = ("no PostgreSQL server for the distributed-sweep tests: set DLCC_TEST_POSTGRES_URL, "
             "or install the Debian package (apt-get install -y postgresql) so initdb exists")


@pytest.fixture
def test_recipes(monkeypatch):
    """Register the `quadratic` and `tiny-linear` test recipes for this test."""
    sweep_recipes.register(monkeypatch)


class LocalPostgres:
    """A private PostgreSQL cluster in a temporary directory (trust auth, 127.0.0.1 only)."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="dlcc-pg-"))
        self.port = _free_port()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> str:
        data = self.dir / "db"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.dir} -c fsync=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.dir / "log"),
                  "-w", "start")
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE optuna")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/optuna"

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "db"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    url = os.environ.get("DLCC_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    as_root = os.geteuid() == 0  # then the server runs as user postgres, through runuser
    usable = initdbs and (not as_root or (_has_user("postgres") and shutil.which("runuser")))
    if not usable:
        if os.environ.get("DLCC_REQUIRE_DATA") == "1":
            pytest.fail(NO_SERVER + " (required here: DLCC_REQUIRE_DATA=1)")
        pytest.skip(NO_SERVER)
    server = LocalPostgres(Path(initdbs[-1]).parent)
    try:
        url = server.start()
    except (subprocess.CalledProcessError, OSError) as exc:
        log = (server.dir / "log").read_text() if (server.dir / "log").exists() else ""
        server.stop()
        pytest.fail(f"could not start PostgreSQL from {server.bindir}: {exc}\n{getattr(exc, 'stderr', '')}\n{log}")
    yield url
    server.stop()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
