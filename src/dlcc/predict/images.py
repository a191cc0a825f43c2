"""The user's image files for `dlcc predict`: finding them, checking them before any pixel is
decoded, and reading them in the numeric range models were trained on.

- A folder means the image files in it (png, tif, jpg; in natural order); other files there are
  skipped and named. A file named on the command line must be an image.
- Headers are checked first: an unreadable header, or more pixels than `max_pixels` (default
  40 million, a 6,300 x 6,300 image), stops with a message before anything is decoded - a
  20,000 x 20,000 image is refused in milliseconds, not after 1.6 GB of float32.
- Pixels: 8- and 16-bit grey, RGB, RGBA (alpha dropped), palette; 16-bit values are brought to
  the 0-255 range of 8-bit images (`to_255`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from dlcc.data.segmentation import IMAGE_SUFFIXES, _natural_key, read_image
from dlcc.errors import DataError

MAX_PIXELS = 40_000_000
SUFFIXES = (*IMAGE_SUFFIXES, ".bmp")


def list_images(inputs: list[Path]) -> tuple[list[Path], list[Path]]:
    """(image files, skipped non-image files of the named folders)."""
    files, skipped = [], []
    for path in inputs:
        if path.is_dir():
            entries = sorted((p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")),
                             key=_natural_key)
            found = [p for p in entries if p.suffix.lower() in SUFFIXES]
            skipped += [p for p in entries if p.suffix.lower() not in SUFFIXES]
            if not found:
                raise DataError(f"{path}: no image files in the folder (looked for {', '.join(SUFFIXES)})",
                                fix="point to a folder of images, or name the files")
            files += found
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise DataError(f"{path}: not an image file (expected {', '.join(SUFFIXES)})",
                                fix="give image files or folders of images")
            files.append(path)
        else:
            raise DataError(f"{path}: no such file or folder", fix="check the path")
    return files, skipped


def check_header(path: Path, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """(height, width) from the header alone; a `DataError` for a file that is not an image or
    has more than `max_pixels` pixels."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # Pillow's DecompressionBombWarning: we decide below
            with Image.open(path) as im:
                w, h = im.size
    except Image.DecompressionBombError:
        w, h = _bomb_size(path)
    except Exception as exc:   # Pillow raises many types for files that are not images
        what = "truncated" if "truncat" in str(exc).lower() else "not a readable image"
        raise DataError(f"{path}: {what} ({str(exc).splitlines()[0][:120]})",
                        fix="re-save it as PNG or JPEG, or remove it from the inputs") from None
    if w * h > max_pixels:
        raise DataError(f"{path} is {w:,} x {h:,} pixels ({w * h / 1e6:.0f} MP), more than the "
                        f"{max_pixels / 1e6:.0f} MP that --max-pixels allows",
                        fix="downscale it (e.g. to 4096 pixels on the long side), or raise --max-pixels if "
                            "memory allows (about 20 bytes per pixel)")
    return h, w


def _bomb_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(path) as im:
            return im.size
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def read_pixels(path: Path) -> np.ndarray:
    """`[H, W]` or `[H, W, 3]` as decoded (uint8, uint16 or float); `DataError` when the file is
    truncated or damaged."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None          # the size was checked against --max-pixels already
        return read_image(path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def to_255(arr: np.ndarray) -> np.ndarray:
    """Pixels as float32 in the 0-255 range of an 8-bit image (16-bit: / 257; float: x 255 when
    at most 1, else as is)."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float32) * (255.0 / float(np.iinfo(arr.dtype).max))
    arr = arr.astype(np.float32)
    return arr * 255.0 if arr.size and float(np.nanmax(arr)) <= 1.0 else arr


def as_rgb_uint8(arr: np.ndarray) -> np.ndarray:
    """Any decoded image -> `[H, W, 3]` uint8 for figures (16-bit and float scaled by their maximum)."""
    x = arr.astype(np.float32)
    top = float(x.max()) if x.size else 0.0
    x = x * (255.0 / top) if top > 0 and (arr.dtype != np.uint8) else x
    x = np.clip(x, 0, 255).astype(np.uint8)
    return np.repeat(x[..., None], 3, axis=-1) if x.ndim == 2 else x
