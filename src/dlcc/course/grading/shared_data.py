"""Decoded datasets shared read-only with every sandbox of a grading run.

An assignment lists the datasets its tests load (`data: [mnist]` in assignment.yaml). Before
grading, the grader loads each once through the dataset registry, which leaves a decoded
`.npz` entry in the grader's data cache; every sandbox then finds that entry in its own cache
folder (read-only) instead of decoding the raw files again. For MNIST that saves decoding
70,000 images per submission.
"""

from __future__ import annotations

import importlib

from dlcc.course.authoring.format import Assignment
from dlcc.errors import ConfigError

DECODED = "decoded"


def _load(name: str) -> None:
    from dlcc.data.registry import get_dataset

    spec = get_dataset(name)
    module, _, function = spec.loader.partition(":")
    getattr(importlib.import_module(module), function)()


def decoded_entries(a: Assignment) -> dict[str, str]:
    """Relative path in a sandbox's work folder -> decoded cache file, for `a.data`.

    Raises DataError (from the registry) when a declared dataset is missing here: better
    before grading than as a grader error in every submission."""
    if not a.data:
        return {}
    from dlcc.data.locations import cache_dir
    from dlcc.data.registry import get_dataset

    entries = {}
    for name in a.data:
        try:
            spec = get_dataset(name)
        except Exception as exc:
            raise ConfigError(f"{a.root / 'assignment.yaml'}: data: {exc}",
                              fix="name datasets as `dlcc data list` does") from None
        _load(name)
        prefixes = {spec.name, (spec.folder or spec.name)}
        folder = cache_dir() / DECODED
        for entry in sorted(folder.glob("*.npz")) if folder.is_dir() else []:
            if any(entry.name.startswith(f"{p}-") for p in prefixes):
                entries[f".cache/{DECODED}/{entry.name}"] = str(entry.resolve())
    return entries
