"""Finding and running the two programs a pipeline needs: `dvc` and `git`.

Both are looked up on PATH before anything is written, so a missing one is one clear line
(exit 2) naming how to install it, never a half-made project. Every call gets
DVC_NO_ANALYTICS=1: a pipeline must work on a machine without network access.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from dlcc.errors import ConfigError

INSTALL = {"dvc": "pip install 'dlcc[pipeline]'",
           "git": "apt install git (Debian/Ubuntu), or see https://git-scm.com/downloads"}


def require(*names: str) -> dict[str, str]:
    """{name: absolute path} of each program; a `ConfigError` naming the first one missing."""
    found = {}
    for name in names:
        path = shutil.which(name)
        if path is None:
            raise ConfigError(f"`{name}` is not installed (not found on PATH); dlcc pipeline needs it",
                              fix=INSTALL[name])
        found[name] = path
    return found


def quiet_env() -> dict[str, str]:
    """The environment for dvc and git calls: no analytics, no update checks, no prompts."""
    return {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_NO_UPDATER": "1", "GIT_TERMINAL_PROMPT": "0"}


def run(argv: list[str], cwd: Path) -> str:
    """Run `argv` in `cwd`; its stdout. A failure raises a `ConfigError` with its last stderr line."""
    done = subprocess.run(argv, cwd=cwd, env=quiet_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise ConfigError(f"`{' '.join(argv)}` failed in {cwd}: {_reason(done.stderr)}",
                          fix="see the message above; run the command by hand to see all of it")
    return done.stdout


def _reason(stderr: str) -> str:
    """The line of a tool's stderr that says what went wrong (dvc ends with a support banner)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("ERROR", "fatal:", "error:")):
            return line[:300]
    lines = [line for line in lines if "dvc.org/support" not in line]
    return (lines[-1] if lines else "(no message)")[:300]


def git_toplevel(path: Path) -> Path | None:
    """The root of the git work tree holding `path`, or None when it is in none."""
    done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, env=quiet_env(),
                          capture_output=True, text=True)
    return Path(done.stdout.strip()).resolve() if done.returncode == 0 else None
