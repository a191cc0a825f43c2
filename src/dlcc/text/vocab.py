"""A deterministic character vocabulary: the sorted set of characters in the training text.

Sorting makes the id of every character depend only on the text, never on hash order or
Python version, so a saved model and its vocabulary always agree.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dlcc.errors import ConfigError, InputError

UNKNOWN_POLICIES = ("error", "drop")


class CharVocab:
    """Characters <-> integer ids.

    `encode(text)` -> int64 array `[len(text)]`; `decode(ids)` -> str. A character that is not
    in the vocabulary is an `InputError` naming it (policy "error", the default) or is left
    out (policy "drop"); a model has no embedding for it, so guessing a stand-in would be silent.
    """

    def __init__(self, chars: Iterable[str]):
        self.chars: list[str] = sorted(set(chars))
        if not self.chars:
            raise InputError("cannot build a vocabulary from an empty text",
                             fix="train on a text with at least one character")
        if any(len(c) != 1 for c in self.chars):
            raise InputError("a character vocabulary holds single characters only")
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        return cls(text)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: str) -> bool:
        return char in self.index

    def unseen(self, text: str) -> list[str]:
        """The distinct characters of `text` that are not in the vocabulary, sorted."""
        return sorted(set(text) - self.index.keys())

    def encode(self, text: str, unknown: str = "error") -> np.ndarray:
        if unknown not in UNKNOWN_POLICIES:
            raise ConfigError(f"unknown-character policy {unknown!r} is not one of {UNKNOWN_POLICIES}",
                              fix="use unknown=error or unknown=drop")
        missing = self.unseen(text)
        if missing:
            if unknown == "error":
                shown = ", ".join(repr(c) for c in missing[:10])
                more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
                raise InputError(
                    f"text contains {len(missing)} character(s) the model never saw in training: "
                    f"{shown}{more}",
                    fix="remove them from the prime text, or pass unknown='drop' "
                        "(CLI: --set sample.unknown=drop) to leave them out")
            text = "".join(c for c in text if c in self.index)
        return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def to_dict(self) -> dict:
        return {"chars": "".join(self.chars)}

    @classmethod
    def from_dict(cls, data: dict) -> "CharVocab":
        return cls(data["chars"])
