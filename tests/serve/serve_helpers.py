"""Helpers of the API tests (a module of its own: `conftest` names collide across test folders)."""

from __future__ import annotations

import io

import numpy as np


def png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()
