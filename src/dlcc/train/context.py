"""`RunContext`: what a run needs to know besides its config - where, on what, how to report.

`dlcc run` (through `dlcc.recipes.runner`) makes one per run; sweeps make one per trial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunContext:
    out_dir: Path
    device: str = "auto"           # resolved with dlcc.utils.device.choose_device
    seed: int = 0
    tracker: str = "none"          # tb | mlflow | wandb | jsonl | none, or several joined by commas
    progress: bool = True          # show progress bars
    resume: bool = False           # continue from the last checkpoint in out_dir
    log: Callable[[str], None] = print
    # Extra dlcc.train callbacks (e.g. a tuner's pruner) that the run helper passes to fit().
    callbacks: list = field(default_factory=list)
    # False: skip the test split (a tuner selecting on validation evaluates test only once,
    # for the best config); the run then returns no test_* metrics.
    evaluate_test: bool = True
    config: dict[str, Any] = field(default_factory=dict)   # the run's whole config, as recorded
    name: str = ""                 # the recipe's name
    engine: str = "dlcc"           # dlcc (dlcc.train's loop) or lightning (PyTorch Lightning)

    def open_tracker(self, name: str | None = None):
        """The tracker for `--tracker` (config logged as its parameters), or None without one."""
        if not self.tracker or self.tracker == "none":
            return None
        from dlcc.track import make_tracker

        return make_tracker(self.tracker, self.out_dir, name or self.out_dir.name, self.config)
