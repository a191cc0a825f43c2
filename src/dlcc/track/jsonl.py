"""Plain JSON-lines tracker: one JSON object per line in `RUN_DIR/tracking.jsonl`.

Record shapes (every line has `type` and `time`, seconds since the epoch):

    {"type": "params",  "params": {"optimizer.lr": 0.05, ...}}
    {"type": "metrics", "step": 1760, "metrics": {"train_loss": 0.71, "val_accuracy": 0.52}}
    {"type": "figure",  "step": 1760, "name": "confusion", "path": "figures/confusion-1760.png"}

Each line is flushed as it is written, so a killed run keeps everything logged before the kill,
and `grep`/`jq`/pandas (`pd.read_json(path, lines=True)`) read it without any library.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dlcc.track.base import Tracker, flatten_params, param_text, safe_name, save_png, scalars

FILE_NAME = "tracking.jsonl"


class JsonlTracker(Tracker):
    kind = "jsonl"

    def __init__(self, run_dir: str | Path, run_name: str = "run"):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / FILE_NAME
        self._fh = open(self.path, "a", encoding="utf-8")
        self._write({"type": "start", "run_name": run_name})

    def _write(self, record: dict[str, Any]) -> None:
        if self._fh is None:
            return
        record = {**record, "time": round(time.time(), 3)}
        self._fh.write(json.dumps(record, default=str) + "\n")
        self._fh.flush()

    def _log_params(self, params):
        flat = {k: param_text(v) for k, v in flatten_params(params).items()}
        self._write({"type": "params", "params": flat})

    def log_metrics(self, metrics, step):
        values = scalars(metrics)
        if values:
            self._write({"type": "metrics", "step": int(step), "metrics": values})

    def log_figure(self, name, figure_or_png_path, step):
        rel = Path("figures") / f"{safe_name(name)}-{int(step)}.png"
        save_png(figure_or_png_path, self.run_dir / rel)
        self._write({"type": "figure", "step": int(step), "name": name, "path": rel.as_posix()})

    def close(self):
        if self._fh is not None:
            self._write({"type": "end"})
            self._fh.close()
            self._fh = None


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """All records of a tracking.jsonl file (or of `RUN_DIR/tracking.jsonl` given a directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / FILE_NAME
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
