"""Decoded arrays, cached once in `<cache>/decoded/` so JPEGs/PNGs are not decoded every run.

An entry is one uncompressed `.npz` named `<tag>-<key>.npz`, where key hashes the sha256 of
every source file plus a format version: a different source copy or a decoder change gives a
new entry, never a stale one. Entries are written to a temporary file and renamed into place.
Processes that need the same entry at once (the ranks of a multi-process run, two runs started
together) take turns on a lock file: one decodes, the others wait and read what it wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from dlcc.data.download import unwritable
from dlcc.data.locations import cache_dir

FORMAT = 1


def entry_path(tag: str, sources: dict[str, str], version: int = 1) -> Path:
    blob = json.dumps({"tag": tag, "sources": sorted(sources.items()), "format": FORMAT,
                       "version": version}).encode()
    return cache_dir() / "decoded" / f"{tag}-{hashlib.sha256(blob).hexdigest()[:16]}.npz"


def cached_arrays(tag: str, sources: dict[str, str], build: Callable[[], dict[str, np.ndarray]],
                  version: int = 1) -> dict[str, np.ndarray]:
    """Return `build()`'s arrays, from the cache when an entry for these sources exists.

    Args:
        tag: short name of what is cached, e.g. "cifar10-jpeg".
        sources: identity of the inputs, e.g. relpath -> sha256 (anything JSON-able as str).
        build: computes the arrays (names must be valid npz keys); called on a cache miss.
        version: bump when the decoder's output changes.
    Raises DataError when the cache folder cannot be written.
    """
    path = entry_path(tag, sources, version)
    arrays = _read(path)
    if arrays is not None:
        return arrays
    with _locked(path):
        arrays = _read(path)            # another process may have built it while we waited
        if arrays is None:
            arrays = build()
            _write(path, arrays)
    return arrays


def _read(path: Path) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None  # a damaged entry in our own cache: rebuild it


@contextmanager
def _locked(path: Path):
    """An exclusive lock on `<entry>.lock` for the time it takes to build an entry (POSIX
    `flock`; where there is none, no lock: two processes then both decode, which is only slower)."""
    try:
        import fcntl
    except ImportError:   # Windows
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path.with_suffix(".lock"), "a")
    except OSError as exc:
        raise unwritable(path.parent, exc) from exc
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def _write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise unwritable(path.parent, exc) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a shared cache should be readable
        os.replace(tmp, path)
    except OSError as exc:
        raise unwritable(path.parent, exc) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
