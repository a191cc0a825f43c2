"""Files that arrive over the network (the web app's uploads, the HTTP API's requests): their
names made safe to write, and errors about their temporary copies worded for the person who
sent them. Both `dlcc app` and `dlcc serve` use these.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dlcc.errors import DlccError


def safe_name(name: str | None, fallback: str = "upload") -> str:
    """The last path component of `name` (after `/` or `\\`), with anything but letters,
    digits and `.-_` replaced and leading dots dropped; `fallback` when nothing is left. An
    uploaded name such as `../../x.png` cannot point outside the folder it is written to."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    return base or fallback


def as_uploaded(exc: DlccError, folder: Path, options: dict[str, str] | None = None) -> DlccError:
    """`exc` with the temporary folder's path left out of its text (the sender knows the file by
    its uploaded name) and command-line options (`{"--fs": "the sampling rate field"}`) named as
    the app or API names them."""
    def fix(text: str | None) -> str | None:
        if text is None:
            return None
        text = text.replace(f"{folder}{os.sep}", "").replace(str(folder), "")
        for option, field in (options or {}).items():
            text = text.replace(option, field)
        return text

    return type(exc)(fix(exc.message), fix(exc.fix))
