"""Where a command writes: a folder that is new, empty, or that the user let us write into."""

from __future__ import annotations

from pathlib import Path

from dlcc.errors import InputError


def writable_out_dir(out: Path, force: bool) -> Path:
    """`out` if it is a folder we may write into: missing, empty, or not empty with --force.
    A file there, or a folder with files and no --force, is an `InputError` (nothing is touched)."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file", fix="give a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(f"{out} already has files", fix="add --force to write into it, or choose another --out")
    return out
