"""Uploaded files: checked by name, size and content before a model sees them.

An upload is `(name, data bytes)`. The checks, in order, each a `DataError` the page shows:

- size: at most `MAX_UPLOAD_MB` megabytes (Streamlit's own `server.maxUploadSize` is set to the
  same number by `dlcc app`, so a larger file is refused by the browser already);
- kind: the suffix must be one the page takes (an image page refuses `report.pdf` by name);
- content: images are checked from their header first (not an image, truncated, more than
  `MAX_PIXELS` pixels) and only then decoded.

Uploads are written to a private temporary folder under names reduced to safe characters, so
an uploaded name such as `../../x.png` cannot point outside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from dlcc.errors import DataError
from dlcc.predict.uploads import as_uploaded, safe_name

MAX_UPLOAD_MB = 50
MAX_PIXELS = 16_000_000              # 4,000 x 4,000: an interactive CPU prediction stays in seconds
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
RECORDING_SUFFIXES = (".hea", ".dat", ".csv", ".npy", ".edf")
VECTOR_SUFFIXES = (".npy", ".csv")


def check_upload(name: str, data: bytes, suffixes: Iterable[str], max_mb: float = MAX_UPLOAD_MB) -> str:
    """The upload's lower-case suffix; a `DataError` for an empty, too large or wrong-kind file."""
    suffixes = tuple(suffixes)
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise DataError(f"{name}: not a file this page takes (expected {', '.join(suffixes)})",
                        fix=f"upload a {' / '.join(s.lstrip('.') for s in suffixes)} file")
    if not data:
        raise DataError(f"{name} is empty (0 bytes)", fix="upload the file again; it may not have been saved")
    if len(data) > max_mb * 1e6:
        raise DataError(f"{name} is {len(data) / 1e6:.1f} MB, more than the app's {max_mb:g} MB limit",
                        fix="downscale or cut the file, or use `dlcc predict` on the command line for large files")
    return suffix


def save_uploads(files: Iterable[tuple[str, bytes]], folder: Path) -> list[Path]:
    """Write each `(name, data)` into `folder` under its safe name; returns the paths."""
    paths = []
    for name, data in files:
        path = folder / safe_name(name)
        path.write_bytes(data)
        paths.append(path)
    return paths


def read_image_upload(name: str, data: bytes, folder: Path, max_pixels: int = MAX_PIXELS,
                      max_mb: float = MAX_UPLOAD_MB) -> np.ndarray:
    """An uploaded image -> `[H, W]` or `[H, W, 3]` pixels as decoded (uint8, uint16 or float).

    Raises `DataError` for a wrong suffix, an empty or oversized file, bytes that are not an
    image, a truncated image, or more than `max_pixels` pixels (checked before decoding).
    """
    from dlcc.predict.images import check_header, read_pixels

    check_upload(name, data, IMAGE_SUFFIXES, max_mb)
    (path,) = save_uploads([(name, data)], folder)
    try:
        check_header(path, max_pixels)
        arr = read_pixels(path)
    except DataError as exc:      # name the upload, not the temporary copy
        raise as_uploaded(exc, folder) from None
    if arr.ndim not in (2, 3) or min(arr.shape[:2]) < 1:
        raise DataError(f"{name}: decoded to shape {list(arr.shape)}, not a 2-D image", fix="upload a 2-D image")
    return arr


def read_vectors_upload(name: str, data: bytes, folder: Path, length: int,
                        max_mb: float = MAX_UPLOAD_MB) -> np.ndarray:
    """An uploaded .npy / headerless .csv of rows -> `[N, length]` float32 (finite values)."""
    from dlcc.predict.classify import read_vectors

    check_upload(name, data, VECTOR_SUFFIXES, max_mb)
    (path,) = save_uploads([(name, data)], folder)
    return read_vectors(path, length, label=name)
