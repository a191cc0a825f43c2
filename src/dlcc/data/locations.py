"""Where datasets are looked for, in order.

1. `--data-dir` (the CLI puts it in env `DLCC_DATA_DIR`), or `data_dir=` passed in code;
2. each directory in env `DLCC_DATA` (colon-separated), read-only sources such as ../shared/data;
3. the user cache: env `DLCC_CACHE`, else `$XDG_CACHE_HOME/dlcc`, else `~/.cache/dlcc`;
4. download from the official source into the cache (only for datasets that have a URL).

Sources 1-2 are never written to. Only the cache is.
"""

from __future__ import annotations

import os
from pathlib import Path


def explicit_dirs(data_dir: str | Path | None = None) -> list[Path]:
    """Directories named on the command line (or in code), highest priority."""
    chosen = data_dir or os.environ.get("DLCC_DATA_DIR")
    return [Path(chosen).expanduser()] if chosen else []


def source_dirs() -> list[Path]:
    """Read-only directories from env `DLCC_DATA`, in order."""
    raw = os.environ.get("DLCC_DATA", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def cache_dir() -> Path:
    """The writable user cache for downloads and decoded arrays."""
    if os.environ.get("DLCC_CACHE"):
        return Path(os.environ["DLCC_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "dlcc"


def search_dirs(data_dir: str | Path | None = None) -> list[Path]:
    """All directories searched for dataset files, in lookup order (cache last)."""
    return [*explicit_dirs(data_dir), *source_dirs(), cache_dir()]
