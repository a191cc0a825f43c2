"""Where character-model text comes from: the embedded corpus, a named dataset, or a file.

The embedded corpus (`american_speeches.txt`, 4.5 kB, shipped inside the package) is a short
collection of public-domain American texts in the spirit of the course's Lincoln corpus: the
Preamble to the U.S. Constitution, the opening of the Declaration of Independence, the First
Amendment, the Gettysburg Address and the last two paragraphs of Lincoln's Second Inaugural
Address. It needs no download, so tests and first runs always work; it is far too small to
learn English from — use tinyshakespeare for that.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from dlcc.errors import DataError

EMBEDDED = "embedded"
EMBEDDED_FILE = "american_speeches.txt"


def embedded_corpus() -> str:
    """The text of the corpus shipped with dlcc (str, ~4,500 characters)."""
    return resources.files("dlcc.text").joinpath(EMBEDDED_FILE).read_text(encoding="utf-8")


def load_corpus(name: str) -> str:
    """Text for a character model.

    Args:
        name: "embedded", a dataset name known to `dlcc.data.load_text` (e.g.
            "tinyshakespeare"), or the path of a UTF-8 `.txt` file.
    """
    if name == EMBEDDED:
        return embedded_corpus()
    path = Path(name).expanduser()
    if path.suffix == ".txt" or path.exists():
        return _read_text_file(path)
    from dlcc.data import load_text  # the data layer resolves names, checksums and locations

    return load_text(name)


def _read_text_file(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"text file {path} does not exist",
                        fix="pass an existing .txt file, or data.corpus=embedded / tinyshakespeare")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"text file {path} is not UTF-8 (byte {err.start} is invalid)",
                        fix=f"convert it, e.g. iconv -f latin1 -t utf-8 {path} > {path.stem}-utf8.txt") from None
    if not text:
        raise DataError(f"text file {path} is empty", fix="pass a file with text in it")
    return text
