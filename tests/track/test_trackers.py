"""Every tracker backend, read back with its own reader: what was logged is what is stored."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from dlcc.errors import ConfigError  # noqa: E402
from dlcc.track import make_tracker  # noqa: E402

PARAMS = {"optimizer": {"name": "sgd", "lr": 0.05}, "model": {"hidden": [300, 200]}, "epochs": 3}
STEPS = [10, 20, 30]
TRAIN_LOSS = [2.0, 1.5, 1.25]
VAL_ACC = [0.3, 0.4, 0.45]


def _figure():
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    return fig


def _log_standard(tracker, tmp_path: Path) -> None:
    """The same session for every backend: params, 3 steps of scalars, 2 figures."""
    tracker.log_params(PARAMS)
    for step, loss, acc in zip(STEPS, TRAIN_LOSS, VAL_ACC):
        tracker.log_metrics({"train_loss": loss, "val_accuracy": acc, "note": "text is skipped",
                             "bad": math.nan}, step)
    fig = _figure()
    tracker.log_figure("curve", fig, 30)
    png = tmp_path / "given.png"
    fig.savefig(png)
    plt.close(fig)
    tracker.log_figure("given", png, 30)
    tracker.close()
    tracker.close()  # twice is harmless


def test_jsonl_round_trip(tmp_path):
    from dlcc.track.jsonl import read_jsonl

    run = tmp_path / "run"
    _log_standard(make_tracker("jsonl", run, "r1"), tmp_path)
    records = read_jsonl(run)
    assert records[0]["type"] == "start" and records[-1]["type"] == "end"
    params = [r for r in records if r["type"] == "params"][0]["params"]
    assert params == {"optimizer.name": "sgd", "optimizer.lr": 0.05, "model.hidden": "[300, 200]", "epochs": 3}
    metrics = [r for r in records if r["type"] == "metrics"]
    assert [r["step"] for r in metrics] == STEPS
    assert [r["metrics"]["train_loss"] for r in metrics] == TRAIN_LOSS
    assert all(set(r["metrics"]) == {"train_loss", "val_accuracy"} for r in metrics)
    figures = [r for r in records if r["type"] == "figure"]
    assert [(f["name"], f["step"]) for f in figures] == [("curve", 30), ("given", 30)]
    for f in figures:
        assert (run / f["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tensorboard_event_files(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    _log_standard(make_tracker("tb", run, "r1"), tmp_path)
    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    loss = acc.Scalars("train_loss")
    assert [e.step for e in loss] == STEPS
    assert [e.value for e in loss] == pytest.approx(TRAIN_LOSS)
    assert [e.value for e in acc.Scalars("val_accuracy")] == pytest.approx(VAL_ACC)
    assert "bad" not in acc.Tags()["scalars"] and "note" not in acc.Tags()["scalars"]
    images = acc.Tags()["images"]
    assert "curve" in images and "given" in images
    given = acc.Images("given")[0]
    assert given.step == 30 and given.width > 0 and given.encoded_image_string[:4] == b"\x89PNG"
    # hyper-parameters: the HParams plugin summary (names and values) and a text table
    hparams = acc.PluginTagToContent("hparams")
    from tensorboard.plugins.hparams import plugin_data_pb2

    session = plugin_data_pb2.HParamsPluginData.FromString(hparams["_hparams_/session_start_info"])
    values = session.session_start_info.hparams
    assert values["optimizer.lr"].number_value == pytest.approx(0.05)
    assert values["optimizer.name"].string_value == "sgd"
    assert values["model.hidden"].string_value == "[300, 200]"
    experiment = plugin_data_pb2.HParamsPluginData.FromString(hparams["_hparams_/experiment"])
    metric_tags = {m.name.tag for m in experiment.experiment.metric_infos}
    assert metric_tags == {"train_loss", "val_accuracy"}


def test_mlflow_sqlite_store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    from mlflow.tracking import MlflowClient

    run = tmp_path / "run"
    tracker = make_tracker("mlflow", run, "r1")
    run_id = tracker.run_id
    _log_standard(tracker, tmp_path)
    assert (run / "mlflow.db").is_file()
    client = MlflowClient(tracking_uri=f"sqlite:///{run / 'mlflow.db'}")
    stored = client.get_run(run_id)
    assert stored.info.run_name == "r1" and stored.info.status == "FINISHED"
    assert stored.data.params["optimizer.lr"] == "0.05"
    assert stored.data.params["model.hidden"] == "[300, 200]"
    history = client.get_metric_history(run_id, "train_loss")
    assert sorted((m.step, m.value) for m in history) == list(zip(STEPS, TRAIN_LOSS))
    assert "bad" not in stored.data.metrics
    figures = {Path(a.path).name for a in client.list_artifacts(run_id, "figures")}
    assert figures == {"curve-30.png", "given-30.png"}
    assert list((run / "mlartifacts").rglob("curve-30.png"))  # artifacts stay in the run dir


def test_mlflow_shared_sqlite_uri(tmp_path, monkeypatch):
    """MLFLOW_TRACKING_URI points several runs at one store; each run is its own MLflow run."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    ids = []
    for i in range(2):
        with make_tracker("mlflow", tmp_path / f"run{i}", f"r{i}", {"lr": 0.1 * (i + 1)}) as t:
            t.log_metrics({"val_loss": float(i)}, 1)
            ids.append(t.run_id)
    client = MlflowClient(tracking_uri=uri)
    assert [client.get_run(i).data.params["lr"] for i in ids] == ["0.1", "0.2"]
    assert [client.get_run(i).data.metrics["val_loss"] for i in ids] == [0.0, 1.0]


def test_wandb_offline_without_account(tmp_path, monkeypatch):
    from wandb_records import config, history

    monkeypatch.delenv("WANDB_MODE", raising=False)  # offline must be the default
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.netrc: any login attempt would fail
    run = tmp_path / "run"
    tracker = make_tracker("wandb", run, "r1")
    assert tracker.mode == "offline"
    _log_standard(tracker, tmp_path)
    files = list((run / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 1
    rows = history(files[0])
    losses = [(r["_step"], r["train_loss"]) for r in rows if "train_loss" in r]
    assert losses == list(zip(STEPS, TRAIN_LOSS))
    assert not any("bad" in r for r in rows)
    images = [r for r in rows if r.get("curve/_type") == "image-file"]
    assert images and images[0]["_step"] == 30
    assert list((files[0].parent / "files" / "media" / "images").glob("curve_*.png"))
    cfg = config(files[0])
    assert cfg["optimizer.lr"] == 0.05 and cfg["model.hidden"] == "[300, 200]"


def test_several_trackers_at_once(tmp_path):
    from dlcc.track.jsonl import read_jsonl

    run = tmp_path / "run"
    with make_tracker("tb,jsonl", run, "r1", config={"lr": 0.1}) as tracker:
        tracker.log_metrics({"val_loss": 1.0}, 5)
    assert (run / "tensorboard").is_dir()
    assert [r["params"] for r in read_jsonl(run) if r["type"] == "params"] == [{"lr": 0.1}]


def test_none_tracker_writes_nothing(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _log_standard(make_tracker("none", run, "r1"), tmp_path)
    assert not any(run.iterdir())


def test_unknown_tracker_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        make_tracker("tensorbored", tmp_path, "r1")
    assert "unknown tracker 'tensorbored'" in err.value.message
    assert "--tracker tb" in err.value.fix
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("kind,package,pip", [("mlflow", "mlflow", "pip install mlflow-skinny"),
                                              ("wandb", "wandb", "pip install wandb"),
                                              ("tb", "tensorboard", "pip install tensorboard")])
def test_missing_package_names_the_pip_command(tmp_path, monkeypatch, kind, package, pip):
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` fail
    with pytest.raises(ConfigError) as err:
        make_tracker(f"jsonl,{kind}", tmp_path / "run", "r1")
    assert f"needs the Python package {package!r}" in err.value.message
    assert err.value.fix.startswith(pip)
    assert not (tmp_path / "run").exists()  # checked before anything was opened


def test_missing_figure_file(tmp_path):
    with make_tracker("jsonl", tmp_path, "r1") as tracker, pytest.raises(ConfigError, match="does not exist"):
        tracker.log_figure("x", tmp_path / "nope.png", 1)
