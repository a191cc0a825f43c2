"""Checksum manifests for datasets with many files.

A manifest is a text file shipped inside the package (`dlcc/data/manifests/<folder>.txt`), one
line per file: `sha256  size  relpath` (relpath relative to the dataset folder, `/`-separated).
Lines starting with `#` are comments. Checksums are not data, so shipping them is fine.

Maintainers regenerate one from a good copy of a dataset with::

    python -m dlcc.data.manifest /path/to/shared/data/isbi2012_em > src/dlcc/data/manifests/isbi2012_em.txt
"""

from __future__ import annotations

import hashlib
import sys
from importlib import resources
from pathlib import Path


def parse_manifest(text: str) -> list[tuple[str, int, str]]:
    """Parse manifest text into `(sha256, size, relpath)` tuples, in file order."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) != 3 or len(parts[0]) != 64 or not parts[1].isdigit():
            raise ValueError(f"manifest line {number} is not 'sha256 size relpath': {line!r}")
        rows.append((parts[0].lower(), int(parts[1]), parts[2]))
    return rows


def read_manifest(folder: str) -> list[tuple[str, int, str]]:
    """The packaged manifest for dataset folder `folder` (e.g. "mitbih")."""
    text = resources.files("dlcc.data").joinpath("manifests", f"{folder}.txt").read_text("utf-8")
    return parse_manifest(text)


def build_manifest(folder: Path) -> str:
    """Manifest text for every file under `folder` except SOURCE.md, sorted by relpath."""
    lines = [f"# {folder.name}: sha256  size  relpath"]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == "SOURCE.md":
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.stat().st_size}  {rel}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - maintainer tool
    sys.stdout.write(build_manifest(Path(sys.argv[1])))
