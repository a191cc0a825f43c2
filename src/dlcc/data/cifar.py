"""CIFAR-10 from the official python tarball or from the two JPEG zips of the shared folder.

The python batches hold the exact pixels. The JPEG zips (quality 75) are lossy: pixels differ
slightly from the originals, so accuracies can differ a little from published numbers.
Decoding the 60,000 JPEGs takes several seconds, so decoded arrays are cached (`cache.py`).
"""

from __future__ import annotations

import pickle
import re
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from dlcc.data.cache import cached_arrays
from dlcc.data.images import decode_image
from dlcc.data.resolve import ensure
from dlcc.errors import DataError

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
_FIX = "replace the file with a good copy (`dlcc data verify cifar10` names the bad one)"


def load_cifar10(data_dir=None, variant: str | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """CIFAR-10.

    Args:
        variant: "python" (official tarball), "jpeg" (the JPEG zips) or None: the first found
            complete on disk in that order, else download the tarball (170 MB).

    Returns:
        {"train": (x uint8 [50000,32,32,3] NHWC RGB, y int64 [50000] in 0..9),
         "test":  (x uint8 [10000,32,32,3], y int64 [10000])}; class names: CIFAR10_CLASSES.
        Order: official batch order for "python"; grouped by class (airplane first) for "jpeg".
    """
    files = ensure("cifar10", data_dir, variant=variant)
    if files.variant.name == "python":
        build = lambda: read_cifar_python(files.paths["cifar-10-python.tar.gz"])  # noqa: E731
    else:
        def build():
            x, y = read_cifar_jpeg_zip(files.paths["cifar10_train_jpg.zip"], "train")
            tx, ty = read_cifar_jpeg_zip(files.paths["cifar10_test_jpg.zip"], "test")
            return {"train_x": x, "train_y": y, "test_x": tx, "test_y": ty}
    a = cached_arrays(f"cifar10-{files.variant.name}", files.digests, build)
    return {"train": (a["train_x"], a["train_y"]), "test": (a["test_x"], a["test_y"])}


def read_cifar_jpeg_zip(path: Path, split: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Decode `<split>/<class>/NNNN.jpg` entries of a JPEG zip, sorted by name.

    Returns (x uint8 [N,32,32,3], y int64 [N]). `limit` decodes only the first N entries
    (for quick tests). Raises DataError naming the zip (and entry) when anything is damaged.
    """
    from tqdm.auto import tqdm

    pattern = re.compile(rf"^{split}/([a-z]+)/\d+\.jpg$")
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if pattern.match(n))
            if not names:
                raise DataError(f"{path} holds no entries like {split}/<class>/NNNN.jpg",
                                fix=_FIX)
            names = names[:limit] if limit else names
            x = np.empty((len(names), 32, 32, 3), np.uint8)
            y = np.empty(len(names), np.int64)
            for i, name in enumerate(tqdm(names, desc=f"decoding CIFAR-10 {split} JPEGs (once)",
                                          disable=None, leave=False)):
                label = pattern.match(name).group(1)
                if label not in CIFAR10_CLASSES:
                    raise DataError(f"{path}:{name}: unknown class {label!r}", fix=_FIX)
                image = decode_image(archive.read(name), f"{path}:{name}", mode="RGB")
                if image.shape != (32, 32, 3):
                    raise DataError(f"{path}:{name} is {image.shape}, expected (32, 32, 3)", fix=_FIX)
                x[i], y[i] = image, CIFAR10_CLASSES.index(label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise DataError(f"cannot read zip {path}: truncated or damaged ({exc})", fix=_FIX) from exc
    return x, y


class _BatchUnpickler(pickle.Unpickler):
    """Only what CIFAR batches contain (dicts, lists, bytes, numpy arrays): no arbitrary code."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"),
               ("_codecs", "encode")}  # how protocol-2 pickles from Python 3 store bytes

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR batch")


def _read_batch(archive: tarfile.TarFile, member: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        fh = archive.extractfile(member)
    except KeyError:
        raise DataError(f"{path} has no member {member}", fix=_FIX) from None
    batch = _BatchUnpickler(fh, encoding="bytes").load()
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise DataError(f"{path}:{member}: data {data.shape} and labels {labels.shape} "
                        "are not [N,3072] and [N]", fix=_FIX)
    # rows are 1024 R, then 1024 G, then 1024 B values: to NHWC
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def read_cifar_python(path: Path) -> dict[str, np.ndarray]:
    """Read the official `cifar-10-python.tar.gz` (5 train batches + test batch).

    Returns {"train_x": uint8 [N,32,32,3], "train_y": int64 [N], "test_x", "test_y"}.
    """
    try:
        with tarfile.open(path, "r:gz") as archive:
            parts = [_read_batch(archive, f"cifar-10-batches-py/data_batch_{i}", path)
                     for i in range(1, 6)]
            test_x, test_y = _read_batch(archive, "cifar-10-batches-py/test_batch", path)
    except (tarfile.TarError, EOFError, OSError, pickle.UnpicklingError, KeyError) as exc:
        raise DataError(f"cannot read {path}: truncated or damaged ({exc})", fix=_FIX) from exc
    return {"train_x": np.concatenate([p[0] for p in parts]),
            "train_y": np.concatenate([p[1] for p in parts]), "test_x": test_x, "test_y": test_y}
