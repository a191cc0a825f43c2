"""Decode PNG/JPEG bytes with Pillow, turning damaged files into a DataError that names them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from dlcc.errors import DataError


def decode_image(data: bytes | Path, where: str, mode: str | None = None) -> np.ndarray:
    """Decode one image to a uint8 array ([H,W] for mode "L", [H,W,C] otherwise).

    Args:
        data: the encoded bytes, or a path to read.
        where: how to name the file in errors, e.g. "cifar10_train_jpg.zip:train/cat/0001.jpg".
        mode: convert to this Pillow mode ("L", "RGB"); None keeps the file's mode.
    """
    try:
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        with Image.open(source) as im:
            im.load()  # decode now, so truncation shows up here and not later
            if mode is not None and im.mode != mode:
                im = im.convert(mode)
            return np.asarray(im, dtype=np.uint8).copy()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        what = "truncated" if "truncated" in str(exc).lower() else "not a readable image"
        raise DataError(f"cannot decode {where}: {what} ({exc})",
                        fix="replace the file with a good copy (see `dlcc data verify`)") from exc
