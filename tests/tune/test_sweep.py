"""`dlcc sweep` end to end on the test recipes (SQLite storage in the sweep directory)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from dlcc.cli import main

QUADRATIC_SPACE = """
metric: val_loss
parameters:
  x: {type: float, low: -3, high: 3}
  y: {type: float, low: -4, high: 0}
  opt: {type: categorical, choices: [a, b, c]}
  hidden: {type: categorical, choices: [[4], [8, 4]]}
  epochs: {type: fixed, value: 2}
"""


def _write(tmp_path: Path, text: str, name: str = "space.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _study(out: Path, name: str = "quadratic") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{out / 'study.db'}")


@pytest.fixture
def eval_log(tmp_path, monkeypatch) -> Path:
    """A file the quadratic recipe appends to each time it evaluates the test split."""
    path = tmp_path / "test-evaluations.log"
    monkeypatch.setenv("DLCC_TEST_EVAL_LOG", str(path))
    return path


@pytest.mark.slow
def test_random_sweep_selects_on_validation_and_tests_once(test_recipes, tmp_path, eval_log, capsys):
    space = _write(tmp_path, QUADRATIC_SPACE)
    out = tmp_path / "sweep"
    assert main(["sweep", "quadratic", "--space", str(space), "--trials", "6", "--out", str(out), "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "test, evaluated once for this configuration: test_loss" in printed

    trials = _study(out).get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6
    best = json.loads((out / "best.json").read_text())
    assert best["selected_on"] == "validation" and best["metric"] == "val_loss"
    assert best["best_trial"]["value"] == min(t.value for t in trials)
    number = best["best_trial"]["number"]
    assert best["best_trial"]["params"] == {k: (json.loads(v) if k == "hidden" else v)
                                            for k, v in trials[number].params.items()}
    # the test split was evaluated exactly once: by the final re-run of the best configuration
    assert eval_log.read_text().splitlines() == [str(out / f"best-trial-{number:04d}")]
    assert set(best["final_run"]["test"]) == {"test_loss"}
    assert best["final_run"]["validation"]["val_loss"] == pytest.approx(best["best_trial"]["value"])
    for t in trials:  # trial directories hold no test metrics
        metrics = json.loads((out / "trials" / f"trial-{t.number:04d}" / "metrics.json").read_text())
        assert metrics["val_loss"] == pytest.approx(t.value) and not any(k.startswith("test_") for k in metrics)
        cfg = (out / "trials" / f"trial-{t.number:04d}" / "config.yaml").read_text()
        assert "epochs: 2" in cfg
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert [int(r["number"]) for r in rows][0] == number  # best first
    assert {r["state"] for r in rows} == {"COMPLETE"}


def test_resume_adds_trials_and_reuses_final_evaluation(test_recipes, tmp_path, eval_log):
    space = _write(tmp_path, QUADRATIC_SPACE)
    out = tmp_path / "sweep"
    args = ["sweep", "quadratic", "--space", str(space), "--out", str(out), "--seed", "2"]
    assert main(args + ["--trials", "3"]) == 0
    assert main(args + ["--trials", "3"]) == 0  # the study already has 3: no new trial
    assert len(_study(out).trials) == 3
    assert len(eval_log.read_text().splitlines()) == 1  # the same best config is not tested again
    assert main(args + ["--trials", "5"]) == 0
    assert len(_study(out).trials) == 5


def test_grid_search_runs_every_combination_once(test_recipes, tmp_path, capsys):
    space = _write(tmp_path, """
method: grid
parameters:
  x: {type: float, low: 0, high: 2}
  opt: {type: categorical, choices: [a, b]}
""")
    out = tmp_path / "sweep"
    assert main(["sweep", "quadratic", "--space", str(space), "--trials", "50", "--out", str(out), "--no-final"]) == 0
    assert "the grid has 6 combinations" in capsys.readouterr().out
    combos = sorted((t.params["x"], t.params["opt"]) for t in _study(out).trials)
    assert combos == [(0.0, "a"), (0.0, "b"), (1.0, "a"), (1.0, "b"), (2.0, "a"), (2.0, "b")]
    assert not (out / "best.json").exists()


@pytest.mark.slow
def test_coarse_to_fine_narrows_around_the_best(test_recipes, tmp_path):
    space = _write(tmp_path, """
parameters:
  x: {type: float, low: -10, high: 10}
  y: {type: float, low: -10, high: 10}
  epochs: {type: fixed, value: 1}
""")
    out = tmp_path / "sweep"
    assert main(["sweep", "quadratic", "--space", str(space), "--trials", "12", "--out", str(out),
                 "--method", "coarse-to-fine", "--seed", "0", "--no-final"]) == 0
    trials = _study(out).trials
    stages = [t.user_attrs["stage"] for t in trials]
    assert stages == ["coarse"] * 6 + ["fine"] * 6
    coarse, fine = trials[:6], trials[6:]
    for t in fine:
        region = json.loads(t.user_attrs["region"])
        assert region["x"][1] - region["x"][0] < 20 and region["x"][0] <= t.params["x"] <= region["x"][1]
    mean = lambda ts: sum(t.value for t in ts) / len(ts)  # noqa: E731
    assert mean(fine) < mean(coarse)


@pytest.mark.slow
def test_tpe_finds_the_bowl(test_recipes, tmp_path):
    space = _write(tmp_path, """
method: tpe
parameters:
  x: {type: float, low: -10, high: 10}
  epochs: {type: fixed, value: 1}
""")
    out = tmp_path / "sweep"
    assert main(["sweep", "quadratic", "--space", str(space), "--trials", "12", "--out", str(out),
                 "--seed", "0", "--no-final"]) == 0
    study = _study(out)
    assert len(study.trials) == 12
    assert abs(study.best_params["x"] - 1.0) < 1.0


def test_methods_build_the_lecture_samplers():
    from dlcc.tune.samplers import CoarseToFineSampler, make_pruner, make_sampler
    from dlcc.tune.space import parse_space

    space = parse_space({"parameters": {"x": {"min": 0.0, "max": 1.0}}})
    assert isinstance(make_sampler("random", space, 20), optuna.samplers.RandomSampler)
    assert isinstance(make_sampler("grid", space, 20), optuna.samplers.GridSampler)
    tpe = make_sampler("tpe", space, 20)
    assert isinstance(tpe, optuna.samplers.TPESampler) and tpe._n_startup_trials == 10
    c2f = make_sampler("coarse-to-fine", space, 20)
    assert isinstance(c2f, CoarseToFineSampler) and c2f.n_coarse == 10
    sha = make_pruner("sha", space)  # the lecture's 27x1, 9x3, 3x9, 1x27: rungs at epochs 1, 3, 9, 27
    assert (sha._min_resource, sha._reduction_factor) == (1, 3)
    assert isinstance(make_pruner("hyperband", space), optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner("median", space), optuna.pruners.MedianPruner)


@pytest.mark.slow
def test_pruning_inside_the_training_loop(test_recipes, tmp_path):
    """tiny-linear trains with dlcc.train.fit; the pruner stops trials with a useless lr."""
    space = _write(tmp_path, """
metric: val_loss
parameters:
  lr: {type: float, low: 1.0e-6, high: 1.0, log: true}
""")
    out = tmp_path / "sweep"
    assert main(["sweep", "tiny-linear", "--space", str(space), "--trials", "10", "--out", str(out),
                 "--pruner", "sha", "--seed", "3", "--study", "prune"]) == 0
    trials = _study(out, "prune").trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert pruned and complete
    for t in pruned:  # stopped at a successive-halving rung (epoch 1 or 3), before the 9 epochs
        assert t.last_step in (1, 3)
        assert sorted(t.intermediate_values) == list(range(1, t.last_step + 1))
        assert not (out / "trials" / f"trial-{t.number:04d}" / "metrics.json").exists()
    for t in complete:
        assert t.last_step == 9
    best = json.loads((out / "best.json").read_text())
    assert best["trials"]["pruned"] == len(pruned)
    assert best["best_trial"]["params"]["lr"] > 1e-3  # a useful learning rate won
