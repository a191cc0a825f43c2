"""MLflow tracker, through `MlflowClient` (no global "active run", so runs never leak into
each other inside one process, e.g. in a sweep).

Where it writes:
- default: a SQLite store `sqlite:///RUN_DIR/mlflow.db`, artifacts in `RUN_DIR/mlartifacts/`;
  view with `mlflow ui --backend-store-uri sqlite:///RUN_DIR/mlflow.db` (needs full `mlflow`);
- `MLFLOW_TRACKING_URI` set: that store instead (a `sqlite:///...` file shared by many runs,
  an `http://` server, or a local directory, i.e. MLflow's file store; MLflow 3 keeps that
  store only behind `MLFLOW_ALLOW_FILE_STORE=true`, which dlcc sets when you ask for one).
  For a shared SQLite file, artifacts go to `mlartifacts/` beside it.
The experiment is `MLFLOW_EXPERIMENT_NAME` or "dlcc"; the run is named after the run directory.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from urllib.parse import urlparse

from dlcc.track.base import Tracker, flatten_params, param_text, safe_name, save_png, scalars

MAX_PARAM_CHARS = 500  # MLflow rejects longer parameter values


def resolve_tracking_uri(run_dir: Path) -> tuple[str, str | None]:
    """(tracking URI, artifact location for a new experiment) for this run."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not uri:
        db = (run_dir / "mlflow.db").resolve()
        return f"sqlite:///{db}", (run_dir / "mlartifacts").resolve().as_uri()
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        # A directory: MLflow's legacy file store, which MLflow 3 refuses without this opt-in.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        return uri, None
    if parsed.scheme == "sqlite":
        db = Path(uri[len("sqlite:///"):])
        return uri, (db.parent / "mlartifacts").resolve().as_uri()
    return uri, None


class MlflowTracker(Tracker):
    kind = "mlflow"

    def __init__(self, run_dir: str | Path, run_name: str = "run"):
        from mlflow.tracking import MlflowClient

        for noisy in ("mlflow.store.db.utils", "alembic", "alembic.runtime.migration"):
            logging.getLogger(noisy).setLevel(logging.WARNING)  # table creation chatter
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.tracking_uri, artifacts = resolve_tracking_uri(self.run_dir)
        self.client = MlflowClient(tracking_uri=self.tracking_uri)
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME", "dlcc")
        experiment = self.client.get_experiment_by_name(name)
        if experiment is None:
            experiment_id = self.client.create_experiment(name, artifact_location=artifacts)
        else:
            experiment_id = experiment.experiment_id
        self.experiment_id = experiment_id
        self.run_id = self.client.create_run(experiment_id, run_name=run_name).info.run_id
        self._closed = False

    def _log_params(self, params):
        from mlflow.entities import Param

        flat = flatten_params(params)
        batch = [Param(k, str(param_text(v))[:MAX_PARAM_CHARS]) for k, v in flat.items()]
        for i in range(0, len(batch), 100):  # MLflow's per-request parameter limit
            self.client.log_batch(self.run_id, params=batch[i:i + 100])

    def log_metrics(self, metrics, step):
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(safe_metric(k), v, now, int(step)) for k, v in scalars(metrics).items()]
        if batch:
            self.client.log_batch(self.run_id, metrics=batch)

    def log_figure(self, name, figure_or_png_path, step):
        tmp = self.run_dir / ".mlflow-figures" / f"{safe_name(name)}-{int(step)}.png"
        save_png(figure_or_png_path, tmp)
        self.client.log_artifact(self.run_id, str(tmp), artifact_path="figures")
        tmp.unlink(missing_ok=True)

    def close(self):
        if not self._closed:
            self._closed = True
            self.client.set_terminated(self.run_id)
            tmp = self.run_dir / ".mlflow-figures"
            if tmp.is_dir() and not any(tmp.iterdir()):
                tmp.rmdir()


def safe_metric(name: str) -> str:
    """MLflow metric names allow letters, digits, `_ - . space : /`; replace anything else."""
    return "".join(c if c.isalnum() or c in "_-. :/" else "_" for c in name)
