"""Uploads made in memory and folders for tiny runs, shared by the app's tests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

import dlcc.app

APP = Path(dlcc.app.__file__).with_name("streamlit_app.py")      # the script `dlcc app` runs


def png(shape=(40, 48, 3), seed=0, dtype=np.uint8) -> bytes:
    from PIL import Image

    top = 255 if dtype == np.uint8 else 65535
    arr = np.random.default_rng(seed).integers(0, top + 1, shape).astype(dtype)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def blobs(folder: Path, n: int = 4, side: int = 48) -> tuple[Path, Path]:
    """`n` grey images with bright discs and their masks, for a tiny unet-folder run."""
    from PIL import Image

    images, masks = folder / "images", folder / "masks"
    images.mkdir(parents=True)
    masks.mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:side, :side]
    for i in range(n):
        mask = np.zeros((side, side), bool)
        for _ in range(3):
            cy, cx, r = rng.integers(8, side - 8, 2).tolist() + [int(rng.integers(4, 8))]
            mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        img = np.clip(40 + 150 * mask + rng.normal(0, 12, mask.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(images / f"b{i}.png")
        Image.fromarray((mask * 255).astype(np.uint8)).save(masks / f"b{i}.png")
    return images, masks


def ecg_csv(seconds: float = 20, fs: int = 360, seed: int = 1) -> tuple[bytes, int]:
    """A synthetic one-lead ECG as CSV with a time column, and its number of R peaks."""
    from dlcc.data import make_synthetic_ecg

    sig, peaks = make_synthetic_ecg(seconds, fs=fs, n_leads=1, seed=seed)
    rows = "\n".join(f"{i / fs:.6f},{v:.5f}" for i, v in enumerate(sig[:, 0]))
    return f"time,ECG1\n{rows}\n".encode(), len(peaks)
