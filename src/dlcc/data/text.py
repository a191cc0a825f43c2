"""Plain-text corpora (tinyshakespeare) for character-level language models."""

from __future__ import annotations

from dlcc.data.registry import get_dataset
from dlcc.data.resolve import ensure
from dlcc.errors import DataError


def load_text(name: str = "tinyshakespeare", data_dir=None) -> str:
    """The whole corpus as one str (tinyshakespeare: 1,115,394 characters, 65 distinct).

    No split is defined; the usual one is the first 90 % of characters for training and the
    last 10 % for validation.
    """
    spec = get_dataset(name)
    if spec.loader != "dlcc.data.text:load_text":
        raise DataError(f"dataset {spec.name!r} is not a text corpus",
                        fix="use load_text('tinyshakespeare'), or this dataset's own loader "
                            f"{spec.loader.replace(':', '.')}")
    files = ensure(spec.name, data_dir)
    (relpath, path), = files.paths.items()
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text ({exc})", fix="replace it with a good copy") from exc
