"""Where assignments are found: the instructor's folder (a clone of the course, or
`--assignments DIR`), or the student releases shipped inside the dlcc package."""

from __future__ import annotations

import os
from pathlib import Path

from dlcc.course.authoring.format import ID_RE, Assignment
from dlcc.errors import ConfigError


def _has_assignments(d: Path) -> bool:
    return d.is_dir() and any((c / "assignment.yaml").is_file() for c in d.iterdir() if c.is_dir())


def packaged_root() -> Path:
    """The student releases shipped inside the dlcc package (`dlcc course get`)."""
    return Path(__file__).resolve().parents[1] / "releases"


def _beside_source() -> Path:
    """The assignments folder of the checkout dlcc runs from (an editable install)."""
    import dlcc

    return Path(dlcc.__file__).resolve().parents[2] / "assignments"


def find_assignments_root(explicit: str | Path | None = None, packaged: bool = True) -> Path:
    """`--assignments DIR`, else env DLCC_ASSIGNMENTS, else an `assignments/` folder in the
    current directory or above it, else the one beside the dlcc source tree, else (with
    `packaged`) the student releases shipped in the package."""
    for label, raw in (("--assignments", explicit), ("DLCC_ASSIGNMENTS", os.environ.get("DLCC_ASSIGNMENTS"))):
        if raw:
            p = Path(raw).expanduser()
            if not p.is_dir():
                raise ConfigError(f"{label} names {p}, which is not a directory",
                                  fix="pass the folder that holds the assignment folders (A1/, A2/, ...)")
            return p.resolve()
    cwd = Path.cwd()
    for d in [cwd, *cwd.parents]:
        if _has_assignments(d / "assignments"):
            return (d / "assignments").resolve()
    beside = _beside_source()
    if _has_assignments(beside):
        return beside
    if packaged and _has_assignments(packaged_root()):
        return packaged_root()
    raise ConfigError("no assignments folder found (looked in the current directory and its parents, "
                      f"and at {beside})",
                      fix="pass --assignments DIR or export DLCC_ASSIGNMENTS=DIR")


def instructor_assignment(aid: str, explicit: str | Path | None = None) -> Assignment:
    """An assignment with its solutions and hidden tests (release, check, grade, mutate)."""
    try:
        root = find_assignments_root(explicit, packaged=False)
    except ConfigError:
        if explicit or os.environ.get("DLCC_ASSIGNMENTS"):
            raise
        raise ConfigError(f"{aid}: this installation of dlcc holds only the student releases, "
                          "without solutions or hidden tests",
                          fix="run this in a clone of the course repository, or pass "
                              "--assignments DIR with the instructor's assignments folder") from None
    return get_assignment(aid, root)


def list_assignments(root: Path) -> list[Assignment]:
    return [Assignment.load(c) for c in sorted(root.iterdir())
            if c.is_dir() and (c / "assignment.yaml").is_file()]


def get_assignment(aid: str, root: Path) -> Assignment:
    path = root / aid
    if not ID_RE.match(aid) or not (path / "assignment.yaml").is_file():
        known = [a.name for a in sorted(root.iterdir()) if (a / "assignment.yaml").is_file()]
        raise ConfigError(f"unknown assignment {aid!r} in {root}; known: {', '.join(known) or 'none'}",
                          fix="run `dlcc course list` to see the assignments")
    a = Assignment.load(path)
    if a.id != aid:
        raise ConfigError(f"{path / 'assignment.yaml'} says id {a.id!r} but its folder is {aid!r}",
                          fix="make the folder name and the id agree")
    return a
