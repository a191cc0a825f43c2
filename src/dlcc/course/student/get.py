"""`dlcc course get ID --out DIR`: copy an assignment's student release out of the package.

The wheel ships each assignment's release (stubs, public tests, questions, given files, the
answer templates; never a solution region, hidden test or answer key) under
`dlcc/course/releases/<ID>/`, so a student who only ran `pip install dlcc` can start. `--out`
follows `release`'s rules: a non-empty folder needs --force, only an earlier release is
replaced, and one a student has changed is moved aside (the new place is printed).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from dlcc.course.authoring.discovery import get_assignment, packaged_root
from dlcc.course.authoring.release import SKIP, check_out, install_tree
from dlcc.errors import ConfigError


def get(aid: str, out: Path, force: bool = False) -> tuple[Path, Path | None]:
    """Copy the packaged release of `aid` to `out`; returns (out, where an earlier changed
    copy was moved, or None)."""
    root = packaged_root()
    if not root.is_dir():
        raise ConfigError(f"this installation of dlcc ships no assignments ({root} is missing)",
                          fix="reinstall dlcc (pip install --force-reinstall dlcc)")
    a = get_assignment(aid, root)
    out = Path(out)
    check_out(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        shutil.rmtree(tmp)
        shutil.copytree(a.root, tmp, ignore=SKIP)
        tmp.chmod(0o755)
        moved = install_tree(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out, moved
