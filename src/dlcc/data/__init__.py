"""dlcc.data: datasets by name, found offline first, verified by sha256, decoded once.

    from dlcc.data import load_mnist, load_cifar10, make_shapes
    x, y = load_mnist()["train"]          # uint8 [60000,28,28], int64 [60000]

Every loader documents its shapes and dtypes; docs/data.md has the full table, the lookup
order (--data-dir, DLCC_DATA, cache, download) and the errors. Names are imported lazily, so
`import dlcc.data` does not pull in PIL, wfdb or torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "load_mnist": "mnist", "read_idx": "mnist",
    "load_cifar10": "cifar", "CIFAR10_CLASSES": "cifar",
    "load_isbi2012": "isbi",
    "load_nuclei": "nuclei",
    "load_mitbih": "ecg", "load_ecg_scipy": "ecg", "Record": "ecg", "BEAT_SYMBOLS": "ecg",
    "mitbih_records": "ecg",
    "load_text": "text",
    "load_digits": "embedded", "load_mnist1d": "embedded",
    "make_shapes": "shapes",
    "make_synthetic_ecg": "synthetic_ecg",
    "ArrayDataset": "torchdata",
    "get_dataset": "registry", "names": "registry", "registry": "registry",
    "ensure": "resolve",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dlcc.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dlcc.data.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
