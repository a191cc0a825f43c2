"""Download one file into the cache: streamed, sha256-checked while streaming, atomic.

The bytes go to `<dest>.<random>.part` next to the destination. Only when the whole body has
arrived and its sha256 is an accepted one is the part file renamed onto `dest` (`os.replace`,
atomic on one filesystem), so a crash or a bad mirror never leaves a half file under the real
name. Any failure removes the part file (it is ours, never a user file).

Environment:
    DLCC_MIRROR   base URL used *instead of* the official URLs: a file is fetched from
                  `$DLCC_MIRROR/<folder>/<relpath>`, i.e. the layout of the shared data folder
                  (http://, https:// or file://). Used by the tests with a local server.
    DLCC_OFFLINE  set to 1 to never download (loaders then fail with "missing" instead).
    DLCC_DOWNLOAD_TIMEOUT  socket timeout in seconds (default 60).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from dlcc import __version__
from dlcc.data.checksum import CHUNK
from dlcc.data.registry import DatasetSpec, FileSpec, Variant
from dlcc.errors import DataError


def mirror() -> str | None:
    raw = os.environ.get("DLCC_MIRROR", "").strip()
    return raw.rstrip("/") or None


def offline() -> bool:
    return os.environ.get("DLCC_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def urls_for(dataset: DatasetSpec, variant: Variant, spec: FileSpec) -> list[str]:
    """Where to fetch `spec` from: the mirror if one is set, else the registry's URLs."""
    base = mirror()
    if base:
        return [f"{base}/{dataset.folder}/{spec.relpath}"]
    return variant.urls(spec)


class _Failed(Exception):
    """One URL did not deliver the file; `kind` is notfound|interrupted|checksum|network."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind


def download(urls: list[str], dest: Path, spec: FileSpec, dataset: str, bar=None) -> str:
    """Fetch `spec` from the first URL that delivers an accepted copy; return its sha256.

    `bar` is an optional tqdm-like object advanced by the number of bytes received.
    Raises DataError naming every URL tried and why it failed.
    """
    if not urls:
        raise DataError(f"{spec.relpath} of dataset {dataset} has no download URL", fix=(
            f"copy the file to {dest}, or set DLCC_MIRROR to a server holding {dest.parent.name}/"))
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unwritable(dest.parent, exc) from exc
    failures: list[tuple[str, _Failed]] = []
    for url in urls:
        start = bar.n if bar is not None else 0
        try:
            return _fetch(url, dest, spec, bar)
        except _Failed as exc:
            failures.append((url, exc))
            if bar is not None and bar.n != start:
                bar.update(start - bar.n)  # give back the bytes of the failed attempt
    lines = "\n".join(f"  {url}: {exc}" for url, exc in failures)
    kinds = {exc.kind for _, exc in failures}
    if kinds == {"interrupted"}:
        fix = f"run `dlcc data fetch {dataset}` again (the partial download was discarded)"
    elif kinds == {"checksum"}:
        fix = ("the server sent different bytes than the registry expects; try again later or "
               f"point DLCC_MIRROR at another copy of {dest.parent.name}/")
    else:
        fix = (f"check the network and run `dlcc data fetch {dataset}` again, or download "
               f"{spec.relpath} yourself and put it at {dest} (or point DLCC_MIRROR at a copy)")
    raise DataError(f"could not download {spec.relpath} (dataset {dataset}):\n{lines}", fix=fix)


def unwritable(folder: Path, exc: OSError) -> DataError:
    return DataError(
        f"cannot write to the dlcc cache {folder}: {exc.strerror or exc}",
        fix="make that folder writable, or choose another cache: export DLCC_CACHE=/a/writable/folder")


def _open(url: str, timeout: float):
    request = urllib.request.Request(url, headers={"User-Agent": f"dlcc/{__version__}"})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        kind = "notfound" if exc.code in (404, 410) else "network"
        raise _Failed(kind, f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Failed("network", f"cannot connect ({getattr(exc, 'reason', None) or exc})") from None


def _fetch(url: str, dest: Path, spec: FileSpec, bar) -> str:
    if not url.startswith(("http://", "https://", "file://")):
        raise _Failed("network", "only http://, https:// and file:// URLs are supported")
    raw_timeout = os.environ.get("DLCC_DOWNLOAD_TIMEOUT", "60")
    try:
        timeout = float(raw_timeout)
    except ValueError:
        raise DataError(f"DLCC_DOWNLOAD_TIMEOUT={raw_timeout!r} is not a number of seconds",
                        fix="export DLCC_DOWNLOAD_TIMEOUT=60") from None
    try:
        fd, part_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise unwritable(dest.parent, exc) from exc
    part = Path(part_name)
    try:
        with os.fdopen(fd, "wb") as out, _open(url, timeout) as response:
            actual = _stream(response, out, spec, bar)
        os.chmod(part, 0o644)  # mkstemp makes 0600; a shared cache should be readable
        os.replace(part, dest)
        return actual
    except OSError as exc:  # network errors are turned into _Failed above; this is local disk
        raise unwritable(dest.parent, exc) from exc
    finally:
        if part.exists():
            part.unlink()


def _stream(response, out, spec: FileSpec, bar) -> str:
    """Copy the body to `out`, hashing it; raise _Failed unless it is complete and accepted."""
    length = response.headers.get("Content-Length")
    expected = int(length) if length and length.isdigit() else None
    limit = max(spec.good_sizes())
    digest = hashlib.sha256()
    received = 0
    while True:
        try:
            chunk = response.read(CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            raise _Failed("interrupted", f"connection lost after {received:,} bytes ({exc!r})") from None
        if not chunk:
            break
        received += len(chunk)
        if received > limit:
            raise _Failed("checksum", f"server sent more than {limit:,} bytes")
        digest.update(chunk)
        out.write(chunk)
        if bar is not None:
            bar.update(len(chunk))
    if expected is not None and received < expected:
        raise _Failed("interrupted", f"transfer interrupted after {received:,} of {expected:,} bytes")
    if received < min(spec.good_sizes()):
        raise _Failed("interrupted", f"transfer ended after {received:,} bytes, expected {spec.size:,}")
    actual = digest.hexdigest()
    if not spec.accepts(actual):
        raise _Failed("checksum", f"sha256 of the download is {actual}, expected {spec.sha256}")
    return actual
