"""Reading submissions: a folder or a .zip, or a class folder of many.

Only the files a student may edit (the assignment's `student_files` and `answers.yaml`) are
taken, wherever they sit in the submission (the shallowest copy wins). Everything else is
ignored: a submitted conftest.py, pytest.py or numpy.py never reaches the grader. Symlinks,
oversized files, zip members with absolute paths or `..` are refused.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dlcc.course.authoring.format import ANSWERS_FILE, WRITTEN_FILE, Assignment
from dlcc.errors import InputError

MAX_FILE_BYTES = 2 * 1024 * 1024
SKIP_DIRS = {"__MACOSX", "__pycache__", ".git"}


@dataclass
class Submission:
    name: str
    source: Path
    files: dict[str, bytes] = field(default_factory=dict)   # allowed name -> content
    notes: list[str] = field(default_factory=list)


def allowed_names(a: Assignment) -> list[str]:
    return [*a.student_files, ANSWERS_FILE, WRITTEN_FILE]


def _pick(candidates: dict[str, list[tuple[int, str]]], name: str, notes: list[str]) -> str | None:
    found = sorted(candidates.get(name, []))
    if not found:
        return None
    if len(found) > 1:
        notes.append(f"{name} appears {len(found)} times; graded {found[0][1]}")
    return found[0][1]


def load_directory(path: Path, a: Assignment, name: str | None = None) -> Submission:
    sub = Submission(name or path.name, path)
    wanted = set(allowed_names(a))
    candidates: dict[str, list[tuple[int, str]]] = {}
    for dirpath, dirnames, filenames in os.walk(path):  # os.walk does not follow symlinks
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        depth = len(Path(dirpath).relative_to(path).parts)
        for fname in filenames:
            if fname in wanted:
                rel = str(Path(dirpath, fname).relative_to(path))
                candidates.setdefault(fname, []).append((depth, rel))
    for fname in allowed_names(a):
        rel = _pick(candidates, fname, sub.notes)
        if rel is None:
            continue
        full = path / rel
        info = os.lstat(full)
        if not stat.S_ISREG(info.st_mode):
            sub.notes.append(f"{rel} is not a regular file (a symlink?); ignored")
            continue
        if info.st_size > MAX_FILE_BYTES:
            sub.notes.append(f"{rel} is {info.st_size:,} bytes, over the {MAX_FILE_BYTES:,} byte "
                             "limit; ignored")
            continue
        sub.files[fname] = full.read_bytes()
    _note_missing(sub, a)
    return sub


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if ".." in parts:
        return "a path that climbs out of the archive (..)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link"
    return None


def load_zip(path: Path, a: Assignment, name: str | None = None) -> Submission:
    sub = Submission(name or path.stem, path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"submission {path} is not a readable zip file ({exc})",
                         fix="re-create the zip (e.g. `zip -r submission.zip <folder>`)") from None
    with zf:
        wanted = set(allowed_names(a))
        candidates: dict[str, list[tuple[int, str]]] = {}
        infos = {}
        for info in zf.infolist():
            problem = _unsafe_member(info)
            if problem:
                raise InputError(f"submission {path} contains {info.filename!r}, {problem}; "
                                 "dlcc refuses such archives", fix="zip only the assignment folder's files")
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.is_dir() or not parts or any(p in SKIP_DIRS or p.startswith(".") for p in parts[:-1]):
                continue
            if parts[-1] in wanted:
                candidates.setdefault(parts[-1], []).append((len(parts) - 1, info.filename))
                infos[info.filename] = info
        for fname in allowed_names(a):
            member = _pick(candidates, fname, sub.notes)
            if member is None:
                continue
            info = infos[member]
            if info.file_size > MAX_FILE_BYTES:
                sub.notes.append(f"{member} is {info.file_size:,} bytes, over the limit; ignored")
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise InputError(f"submission {path}: member {member} cannot be read ({exc})",
                                 fix="re-create the zip") from None
            if len(data) > MAX_FILE_BYTES:
                sub.notes.append(f"{member} is over the size limit; ignored")
                continue
            sub.files[fname] = data
    _note_missing(sub, a)
    return sub


def _note_missing(sub: Submission, a: Assignment) -> None:
    missing = [f for f in a.student_files if f not in sub.files]
    if missing:
        sub.notes.append(f"not in the submission: {', '.join(missing)} (their tests score 0)")
    if ANSWERS_FILE not in sub.files and any(q.kind != "manual" for q in a.questions):
        sub.notes.append(f"not in the submission: {ANSWERS_FILE} (written answers score 0)")


def load_submission(path: Path, a: Assignment, name: str | None = None,
                    strict: bool = False) -> Submission:
    """`strict`: refuse a submission that holds none of the files the grader takes (the wrong
    assignment, or files packed under other names), instead of grading it as empty."""
    if path.is_file() and path.suffix.lower() == ".zip":
        sub = load_zip(path, a, name)
    elif path.is_dir():
        sub = load_directory(path, a, name)
    else:
        sub = None
    if sub is not None:
        if strict and not sub.files:
            raise InputError(f"submission {path} holds none of {a.id}'s files ("
                             f"{', '.join(allowed_names(a))}); it holds {_listing(path)}",
                             fix=f"hand in the zip made by `dlcc course submit {a.id}`, or a folder "
                                 "with those files")
        return sub
    if not path.exists():
        raise InputError(f"submission {path} does not exist", fix="pass a folder or a .zip file")
    raise InputError(f"submission {path} is neither a folder nor a .zip file",
                     fix="pass the student's folder, or a .zip of it")


def _listing(path: Path, most: int = 6) -> str:
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir())
    else:
        with zipfile.ZipFile(path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
    shown = ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
    return shown or "nothing"


def is_single(path: Path, a: Assignment) -> bool:
    """A folder is one submission when a student file sits at its top level."""
    if path.is_file():
        return True
    return any((path / f).is_file() for f in allowed_names(a))


def class_members(path: Path) -> list[tuple[str, Path]]:
    """(name, path) of each submission in a class folder: subfolders and .zip files."""
    members: dict[str, Path] = {}
    for child in sorted(path.iterdir()):
        if child.name.startswith(".") or child.name in SKIP_DIRS or child.is_symlink():
            continue
        if child.is_dir() or (child.is_file() and child.suffix.lower() == ".zip"):
            name = child.stem if child.is_file() else child.name
            if name in members:
                raise InputError(f"class folder {path} has two submissions named {name!r} "
                                 f"({members[name].name} and {child.name})",
                                 fix="rename or remove one of them")
            members[name] = child
    return list(members.items())
