"""Run directories: one folder per run, never reused by accident."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from dlcc.errors import ConfigError


def make_run_dir(out: str | Path | None, name: str, root: str | Path = "runs",
                 allow_existing: bool = False) -> Path:
    """Create and return the directory a run writes into.

    Args:
        out: the directory the user asked for, or None for `root/<name>-<timestamp>`.
        name: recipe or job name, used in the default directory name.
        allow_existing: reuse a non-empty directory (for --resume). Otherwise a non-empty
            directory is refused so that no earlier results are overwritten.
    """
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path(root) / f"{name}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path(root) / f"{name}-{stamp}-{n}"
    else:
        path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"output path {path} exists and is a file, not a directory",
                          fix="pass --out with a new directory name")
    if path.is_dir() and any(path.iterdir()) and not allow_existing:
        raise ConfigError(f"output directory {path} already holds files; dlcc will not overwrite them",
                          fix="pass --out with a new directory, or remove the old run yourself")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output directory {path}: {exc.strerror}",
                          fix="pass --out with a directory you can write to") from None
    return path
