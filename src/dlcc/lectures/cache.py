"""Companion outputs cached by content, so the site build (and `mkdocs serve`) reruns a
companion only when the lecture code changed.

The key hashes every file of `dlcc.lectures` (companions, framework, quizzes) and dlcc's
version; a change elsewhere in dlcc that should redraw the figures needs the cache folder
removed (`rm -r .cache/lectures`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import dlcc
from dlcc.lectures.catalog import Lecture
from dlcc.lectures.companion import MARKER, run_companion

PACKAGE = Path(__file__).parent


def fingerprint(quick: bool = True) -> str:
    """A short hash of the lecture code and dlcc's version (same for every lecture)."""
    h = hashlib.sha256(f"{dlcc.__version__}|quick={quick}".encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml"}:
            h.update(str(path.relative_to(PACKAGE)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cached_run(lecture: Lecture, root: str | Path, quick: bool = True, stream=None) -> Path:
    """The folder holding `lecture`'s companion output for the current code, running the
    companion first if no such folder exists under `root`. Older keys of the same lecture
    are removed."""
    root = Path(root)
    folder = root / f"{lecture.id}-{fingerprint(quick)}"
    if (folder / MARKER).is_file():
        return folder
    for old in root.glob(f"{lecture.id}-*"):
        shutil.rmtree(old, ignore_errors=True)
    tmp = root / f".{folder.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    run_companion(lecture, tmp, quick=quick, stream=stream)
    tmp.rename(folder)   # atomic: a crash leaves no half-written folder under the real name
    return folder


def load_cached(folder: Path) -> dict:
    """companion.json of a cached run, plus its printed output and numbers."""
    meta = json.loads((folder / MARKER).read_text())
    meta["output"] = (folder / "output.txt").read_text()
    meta["numbers"] = json.loads((folder / "numbers.json").read_text())
    return meta
