"""Which metric a sweep may select on: validation metrics only.

The 2021 course's wandb sweep maximised `accu_test`, i.e. it chose hyper-parameters on the test
set, which Lecture 4 calls a bad idea: the chosen configuration is then fitted to the test set
and its test accuracy is no longer an unbiased estimate. dlcc refuses test (and training)
metrics as the selection metric with an error that says why; the course's validation names
(`accu_val`, `loss_val`) are mapped to dlcc's (`val_accuracy`, `val_loss`).
"""

from __future__ import annotations

import re

from dlcc.errors import ConfigError

ALIASES = {
    "accu_val": "val_accuracy", "acc_val": "val_accuracy", "val_acc": "val_accuracy",
    "loss_val": "val_loss", "validation_loss": "val_loss", "validation_accuracy": "val_accuracy",
}
_TEST = re.compile(r"(^|[_/.\-])test($|[_/.\-])", re.IGNORECASE)


def resolve_metric(name: str) -> str:
    """Return dlcc's name for a validation metric; refuse test and training metrics."""
    name = name.strip()
    key = ALIASES.get(name.lower(), name)
    if _TEST.search(key):
        raise ConfigError(
            f"metric {name!r} is measured on the test split; a sweep selects hyper-parameters on "
            "the validation split only, because choosing them by test score fits them to the test "
            "set and makes the reported test score optimistic (Lecture 4). dlcc evaluates the test "
            "split once, for the best configuration, and reports it in best.json",
            fix=f"select on the validation metric instead, e.g. metric: {{name: {_guess(key)}, goal: "
                f"{'minimize' if 'loss' in key.lower() else 'maximize'}}}")
    if not key.startswith("val_"):
        raise ConfigError(f"metric {name!r} is not a validation metric; a sweep selects on the "
                          "validation split (names starting with val_)",
                          fix="use e.g. metric: val_loss or metric: {name: val_accuracy, goal: maximize}")
    return key


def _guess(test_name: str) -> str:
    """accu_test -> val_accuracy, test_loss -> val_loss, test_dice -> val_dice."""
    low = test_name.lower()
    if "acc" in low:
        return "val_accuracy"
    if "loss" in low:
        return "val_loss"
    rest = re.sub(_TEST, "", low).strip("_/.-")
    return f"val_{rest}" if rest else "val_loss"
