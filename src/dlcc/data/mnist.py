"""MNIST from the four official idx files (gzipped or not)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from dlcc.data.cache import cached_arrays
from dlcc.data.resolve import ensure
from dlcc.errors import DataError

# idx type byte -> numpy dtype (big-endian for multi-byte types, as the format specifies)
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_FIX = "replace the file with a good copy (`dlcc data verify mnist` names the bad one)"


def read_idx(path: Path) -> np.ndarray:
    """Read an idx file (`.gz` or raw) into an array of the shape its header declares.

    Raises DataError for a truncated gzip stream, a bad magic number or a body whose length
    does not match the header.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read {path}: the gzip stream is truncated or damaged ({exc})",
                        fix=_FIX) from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(f"{path} is not an idx file: first bytes {raw[:4].hex() or '(empty)'}, "
                        "expected 0000 08 0N", fix=_FIX)
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated: {len(raw)} bytes, shorter than its header", fix=_FIX)
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    need = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != need:
        raise DataError(f"{path} holds {len(raw) - header:,} data bytes but its header {shape} "
                        f"needs {need - header:,} (truncated or damaged)", fix=_FIX)
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def load_mnist(data_dir=None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST digits.

    Returns:
        {"train": (x uint8 [60000,28,28], y int64 [60000]),
         "test":  (x uint8 [10000,28,28], y int64 [10000])}
        Pixels 0 (background) .. 255 (ink), labels 0..9, in the official order.
    """
    files = ensure("mnist", data_dir)

    def build():
        p = files.paths
        out = {"train_x": read_idx(p["train-images-idx3-ubyte.gz"]),
               "train_y": read_idx(p["train-labels-idx1-ubyte.gz"]).astype(np.int64),
               "test_x": read_idx(p["t10k-images-idx3-ubyte.gz"]),
               "test_y": read_idx(p["t10k-labels-idx1-ubyte.gz"]).astype(np.int64)}
        for split in ("train", "test"):
            x, y = out[f"{split}_x"], out[f"{split}_y"]
            if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
                raise DataError(f"MNIST {split} images {x.shape} and labels {y.shape} do not match",
                                fix=_FIX)
        return out

    a = cached_arrays("mnist", files.digests, build)
    return {"train": (a["train_x"], a["train_y"]), "test": (a["test_x"], a["test_y"])}
