"""Uploaded files, made safe to read: names cleaned, bytes written into a private temporary
folder, and decoded by the same readers `dlcc predict` uses (so the same checks apply: image
headers before pixels, truncated files, recordings of any supported format).
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlcc.errors import DataError
from dlcc.predict.uploads import as_uploaded, safe_name

RECORDING_SUFFIXES = (".npy", ".csv", ".hea", ".dat", ".edf", ".bdf")
MAX_FILES = 32


@dataclass
class Upload:
    """One uploaded file: the client's file name and its bytes."""

    filename: str
    data: bytes


def upload_name(filename: str | None, index: int) -> str:
    """A file name without folders or odd characters, at most 120 characters (the client's
    name is only a label)."""
    return safe_name(filename, fallback=f"upload{index}")[:120]


@contextmanager
def saved(uploads: list[Upload]):
    """The uploads written into a fresh temporary folder: yields their paths (removed afterwards)."""
    if not uploads:
        raise DataError("no file in the request", fix="send the file(s) as multipart form field 'file'")
    if len(uploads) > MAX_FILES:
        raise DataError(f"{len(uploads)} files in one request; at most {MAX_FILES}", fix="send fewer files per request")
    with tempfile.TemporaryDirectory(prefix="dlcc-serve-") as folder:
        paths, used = [], set()
        for i, upload in enumerate(uploads):
            if not upload.data:
                raise DataError(f"{upload_name(upload.filename, i)}: the file is empty", fix="send the file's contents")
            name = upload_name(upload.filename, i)
            while name in used:
                name = f"_{name}"
            used.add(name)
            path = Path(folder) / name
            path.write_bytes(upload.data)
            paths.append(path)
        try:
            yield paths
        except DataError as exc:             # name the client's file, not the temporary folder
            raise as_uploaded(exc, Path(folder)) from None


def read_image_upload(path: Path, max_pixels: int) -> np.ndarray:
    """Decoded pixels of an uploaded image (`[H, W]` or `[H, W, C]`), header checked first."""
    from dlcc.predict.images import check_header, read_pixels

    if path.suffix.lower() in RECORDING_SUFFIXES:
        raise DataError(f"{path.name} is an ECG recording, but this model takes images",
                        fix="send a PNG, JPEG or TIFF image, or serve an ecg-rpeak model for recordings")
    check_header(path, max_pixels)
    return read_pixels(path)


def recording_paths(paths: list[Path]) -> list[Path]:
    """The recordings among uploaded files: a WFDB record is its .hea (with its .dat beside it)."""
    names = {p.name for p in paths}
    out = []
    for path in paths:
        suffix = path.suffix.lower()
        if suffix not in RECORDING_SUFFIXES:
            kind = "an image" if suffix in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp") else "not a recording"
            raise DataError(f"{path.name} is {kind}; this model detects R peaks in ECG recordings",
                            fix="send .npy, .csv, .edf, or a WFDB .hea with its .dat "
                                "(or a JSON body {\"signal\": [...], \"fs\": 360})")
        if suffix == ".dat":
            if f"{path.stem}.hea" not in names:
                raise DataError(f"{path.name}: a WFDB .dat file needs its header {path.stem}.hea in the same request",
                                fix=f"send {path.stem}.hea and {path.name} together")
            continue
        out.append(path)
    return out
