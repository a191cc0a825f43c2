"""sha256 of files, and the error a user sees when a file is not the expected one."""

from __future__ import annotations

import hashlib
from pathlib import Path

from dlcc.data.registry import FileSpec
from dlcc.errors import DataError

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_mismatch(spec: FileSpec, digest: str, size: int) -> str:
    """Two lines: expected vs found, with a plain-words guess at what happened."""
    expected = f"expected sha256 {spec.sha256} ({spec.size:,} bytes)"
    if spec.alternates:
        expected += " or " + " or ".join(f"{sha} ({n:,} bytes)" for sha, n in spec.alternates)
    good = spec.good_sizes()
    if size < min(good):
        why = f"the file is truncated: {size:,} bytes, a good copy has {min(good):,}"
    elif size > max(good):
        why = f"the file is too long: {size:,} bytes, a good copy has {max(good):,}"
    else:
        why = f"{size:,} bytes: right size, different content (corrupted or a different version)"
    return f"  {expected}\n  found    sha256 {digest} ({why})"


def check_file(path: Path, spec: FileSpec, dataset: str, fix: str) -> str:
    """Hash `path` and raise DataError unless it is an accepted copy of `spec`; return the digest."""
    try:
        size = path.stat().st_size
        digest = sha256_file(path)
    except OSError as exc:
        raise DataError(f"cannot read {path} (dataset {dataset}): {exc.strerror or exc}",
                        fix=f"check the file's permissions, or {fix}") from exc
    if not spec.accepts(digest):
        raise DataError(f"checksum mismatch for {path} (dataset {dataset})\n"
                        + describe_mismatch(spec, digest, size), fix=fix)
    return digest
