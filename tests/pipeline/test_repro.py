"""A generated pipeline under real `dvc` and `git`: repro, the no-op second repro, a param
change that re-runs only what reads it, `dvc exp run --set-param`, `dvc metrics diff`, a local
remote round trip, and a fresh clone that reproduces metrics.json exactly.

One project per module (each step builds on the last, as a user's would); every step is
`slow` (real subprocesses: each dvc call is ~2 s, each stage ~4 s of imports on 2 cores).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline_helpers import init, sh, stages_run

pytestmark = pytest.mark.slow
ALL = ["prepare", "train", "evaluate", "export"]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    home = root / "home"
    home.mkdir()
    project = root / "p"
    init("mnist1d-mlp", project, "--remote", str(root / "remote"))
    sh("git", "commit", "-qm", "pipeline", cwd=project, HOME=str(home))
    first = sh("dvc", "repro", cwd=project, HOME=str(home))
    return {"path": project, "root": root, "home": str(home), "first": first.stdout}


def _sh(project, *argv, **kw):
    return sh(*argv, cwd=kw.pop("cwd", project["path"]), HOME=project["home"], **kw)


def _commit(project, message: str) -> None:
    _sh(project, "git", "add", "-A")
    if _sh(project, "git", "status", "--porcelain").stdout.strip():
        _sh(project, "git", "commit", "-qm", message)


def test_repro_runs_every_stage_then_a_second_repro_does_nothing(project):
    path = project["path"]
    assert stages_run(project["first"]) == ALL
    metrics = json.loads((path / "metrics.json").read_text())
    assert 0.1 < metrics["test_accuracy"] <= 1 and metrics["n_test"] == 1000 and metrics["epochs_run"] == 1
    assert not any(k.endswith("_time_s") for k in metrics), "timings belong in timings.json"
    assert "train_time_s" in json.loads((path / "timings.json").read_text())
    assert (path / "export" / "model.torchscript.pt").is_file() and (path / "model" / "model.pt").is_file()
    again = _sh(project, "dvc", "repro").stdout
    assert stages_run(again) == [], again
    assert "didn't change" in again or "up to date" in again.lower()
    _commit(project, "first repro")


def test_a_param_change_reruns_only_the_stages_that_read_it(project):
    path = project["path"]
    params = yaml.safe_load((path / "params.yaml").read_text())
    params["train"]["epochs"] = 2
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    status = _sh(project, "dvc", "status").stdout
    assert "train" in status and "prepare" not in status, status
    ran = stages_run(_sh(project, "dvc", "repro").stdout)
    assert ran == ["train", "evaluate", "export"], ran
    assert json.loads((path / "metrics.json").read_text())["epochs_run"] == 2
    _sh(project, "git", "checkout", "params.yaml")
    _sh(project, "dvc", "checkout")   # back to the committed outputs (dvc.lock still says epochs 2)
    back = _sh(project, "dvc", "repro").stdout   # the run cache knows epochs=1: nothing is trained again
    assert stages_run(back) == [] or "is cached" in back, back
    assert json.loads((path / "metrics.json").read_text())["epochs_run"] == 1
    _commit(project, "back to one epoch")


def test_exp_run_with_set_param_and_metrics_diff(project):
    before = json.loads((project["path"] / "metrics.json").read_text())
    exp = _sh(project, "dvc", "exp", "run", "--set-param", "train.epochs=3", "--set-param", "model.hidden=[48]").stdout
    assert stages_run(exp) == ["train", "evaluate", "export"], exp
    after = json.loads((project["path"] / "metrics.json").read_text())
    assert after["epochs_run"] == 3 and after["test_accuracy"] != before["test_accuracy"]
    diff = json.loads(_sh(project, "dvc", "metrics", "diff", "--json").stdout)
    change = diff["metrics.json"]["test_accuracy"]
    assert change["old"] == before["test_accuracy"] and change["new"] == after["test_accuracy"]
    shown = json.loads(_sh(project, "dvc", "exp", "show", "--json").stdout)
    assert "train.epochs" in json.dumps(shown) or '"epochs": 3' in json.dumps(shown)
    _sh(project, "git", "checkout", "--", "params.yaml", "metrics.json", "timings.json", "dvc.lock", "eval")
    _sh(project, "dvc", "checkout", "--force")
    assert json.loads((project["path"] / "metrics.json").read_text()) == before


def test_a_local_remote_round_trips_data_and_models(project):
    path = project["path"]
    pushed = _sh(project, "dvc", "push").stdout
    assert "pushed" in pushed or "Everything is up to date" in pushed, pushed
    before = {name: _digest(path / name) for name in ("data", "model", "export")}
    shutil.rmtree(path / ".dvc" / "cache")
    for name in before:
        shutil.rmtree(path / name)
    _sh(project, "dvc", "pull")
    assert {name: _digest(path / name) for name in before} == before
    assert stages_run(_sh(project, "dvc", "repro").stdout) == []


def test_a_fresh_clone_pulls_the_model_and_reproduces_metrics_json(project):
    path, clone = project["path"], project["root"] / "clone"
    _sh(project, "git", "clone", "-q", str(path), str(clone), cwd=project["root"])
    _sh(project, "dvc", "pull", cwd=clone)   # the committed remote is a folder: no set-up
    assert _digest(clone / "model") == _digest(path / "model")
    ran = stages_run(_sh(project, "dvc", "repro", "--force", cwd=clone).stdout)
    assert ran == ALL
    assert (clone / "metrics.json").read_bytes() == (path / "metrics.json").read_bytes()
    assert json.loads((clone / "timings.json").read_text()).keys() == json.loads((path / "timings.json").read_text()).keys()
