"""Search-space parsing: dlcc's schema, the course's wandb-style sweep dict, and bad spaces."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
import yaml

from dlcc.config import apply_overrides
from dlcc.errors import ConfigError
from dlcc.tune.metric import resolve_metric
from dlcc.tune.params import decode_params, grid_size, grid_values, to_overrides
from dlcc.tune.space import load_space, parse_space

# The course's A2 sweep (COURSE-SPEC 1.2 e), with the metric moved to validation.
COURSE_SWEEP = {
    "method": "random",
    "metric": {"name": "accu_val", "goal": "maximize"},
    "parameters": {
        "seeds": {"min": 1, "max": 2 ** 32},
        "epochs": {"values": [30, 40, 50, 60, 70]},
        "batch_size": {"values": [256, 512]},
        "learning_rate": {"min": 0.05, "max": 0.2},
        "reg": {"values": [0, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 1e-1]},
        "num_hidden_layers": {"values": [[300, 200, 100], [300, 300, 200, 100], [200, 100]]},
        "optimizer": {"values": ["adam", "sgd"]},
        "scheduler": {"values": ["one_cycle", "step"]},
    },
}


def test_course_wandb_sweep_is_accepted():
    space = parse_space(COURSE_SWEEP)
    assert space.metric == "val_accuracy" and space.direction == "maximize" and space.method == "random"
    p = space.params
    assert (p["seeds"].kind, p["seeds"].low, p["seeds"].high) == ("int", 1, 2 ** 32)
    assert (p["learning_rate"].kind, p["learning_rate"].low, p["learning_rate"].high) == ("float", 0.05, 0.2)
    assert p["num_hidden_layers"].kind == "categorical" and p["num_hidden_layers"].choices[2] == [200, 100]


def test_course_sweep_on_test_accuracy_is_refused():
    bad = {**COURSE_SWEEP, "metric": {"name": "accu_test", "goal": "maximize"}}
    with pytest.raises(ConfigError) as err:
        parse_space(bad)
    assert "'accu_test' is measured on the test split" in err.value.message
    assert "validation split only" in err.value.message
    assert "val_accuracy" in err.value.fix


@pytest.mark.parametrize("name,expected", [("val_loss", "val_loss"), ("accu_val", "val_accuracy"),
                                           ("loss_val", "val_loss"), ("val_dice", "val_dice")])
def test_validation_metric_names(name, expected):
    assert resolve_metric(name) == expected


@pytest.mark.parametrize("name", ["test_accuracy", "accu_test", "loss_test", "test/dice", "train_loss", "accuracy"])
def test_non_validation_metrics_are_refused(name):
    with pytest.raises(ConfigError):
        resolve_metric(name)


def test_wandb_distributions():
    space = parse_space({"parameters": {
        "a": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "b": {"distribution": "log_uniform", "min": -2, "max": 0},
        "c": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 2},
        "d": {"distribution": "int_uniform", "min": 1, "max": 5},
        "e": {"value": 3},
        "f": {"distribution": "uniform", "min": 0, "max": 1},
    }})
    p = space.params
    assert (p["a"].kind, p["a"].log, p["a"].low) == ("float", True, 1e-4)
    assert p["b"].low == pytest.approx(math.exp(-2)) and p["b"].high == pytest.approx(1.0) and p["b"].log
    assert (p["c"].kind, p["c"].step) == ("int", 2)
    assert (p["d"].kind, p["d"].low, p["d"].high) == ("int", 1, 5)
    assert p["e"].kind == "fixed" and space.fixed == {"e": 3}
    assert (p["f"].kind, p["f"].low) == ("float", 0.0)
    assert space.direction == "minimize" and space.metric == "val_loss"  # the defaults


def test_native_schema_and_defaults(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("""
metric: val_accuracy
method: coarse-to-fine
coarse_to_fine: {coarse_fraction: 0.4, top_fraction: 0.25}
parameters:
  optimizer.lr: {type: float, low: 1e-4, high: 0.3, log: true}
  batch_size: {type: int, low: 32, high: 256, log: true}
  epochs: {type: int, low: 2, high: 10, step: 2}
  model.hidden: {type: categorical, choices: [[64], [128, 64]]}
  seed: {type: fixed, value: 1}
""")
    space = load_space(path)
    assert space.direction == "maximize"  # inferred: not a loss
    assert space.method == "coarse-to-fine" and space.coarse_to_fine == {"coarse_fraction": 0.4, "top_fraction": 0.25}
    assert space.params["optimizer.lr"].low == 1e-4  # '1e-4' (a string in YAML 1.1) read as a number
    assert space.params["model.hidden"].line == 9
    assert set(space.searched) == {"optimizer.lr", "batch_size", "epochs", "model.hidden"}
    assert space.fingerprint() == load_space(path).fingerprint()


def test_grid_values():
    space = parse_space({"parameters": {
        "lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
        "wd": {"type": "float", "low": 0, "high": 1, "grid_points": 5},
        "epochs": {"type": "int", "low": 2, "high": 10, "step": 4},
        "hidden": {"type": "categorical", "choices": [[64], [128, 64]]},
    }})
    assert grid_values(space.params["lr"]) == [0.001, 0.01, 0.1]
    assert grid_values(space.params["wd"]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert grid_values(space.params["epochs"]) == [2, 6, 10]
    assert grid_values(space.params["hidden"]) == ["[64]", "[128, 64]"]
    assert grid_size(space) == 3 * 5 * 3 * 2
    assert decode_params(space, {"hidden": "[128, 64]", "lr": 0.01}) == {"hidden": [128, 64], "lr": 0.01}


@dataclass
class _Holder:
    f: float | None = 0.0
    i: int = 0
    b: bool = False
    s: str = ""
    h: list[int] = field(default_factory=list)


@pytest.mark.parametrize("key, value", [("f", 1e-05), ("f", 0.1), ("i", 3), ("b", True), ("s", "adam"),
                                        ("s", "yes"), ("h", [300, 200]), ("f", None), ("f", 1e20)])
def test_overrides_round_trip_through_set(key, value):
    (text,) = to_overrides({key: value})
    assert getattr(apply_overrides(_Holder(), [text]), key) == value
    assert yaml.safe_load(text.split("=", 1)[1]) == value


@pytest.mark.parametrize("spec,message", [
    ({"type": "float", "low": 1, "high": 0}, "low (1.0) is greater than high (0.0)"),
    ({"type": "float", "low": 0, "high": 1, "log": True}, "needs low > 0"),
    ({"type": "float", "low": 0.1, "high": 1, "log": True, "step": 0.1}, "cannot be combined"),
    ({"type": "int", "low": 1.5, "high": 3}, "whole numbers"),
    ({"type": "float", "low": "a", "high": 1}, "low must be a number"),
    ({"type": "float", "low": 0}, "needs 'low' and 'high'"),
    ({"type": "categorical", "choices": []}, "non-empty list"),
    ({"type": "normal", "low": 0, "high": 1}, "not one of float, int, categorical"),
    ({"type": "float", "low": 0, "high": 1, "lo": 3}, "unknown field 'lo'"),
    ({"distribution": "normal", "mu": 0}, "unknown field 'mu'"),
    ({"distribution": "q_log_uniform_values", "min": 1, "max": 8}, "not supported"),
    ({"min": 1}, "give values"),
    ([1, 2], "expected a mapping"),
    ({"type": "float", "low": 0, "high": 1, "grid_points": 1}, "grid_points must be"),
])
def test_bad_parameters_name_the_parameter(spec, message):
    with pytest.raises(ConfigError) as err:
        parse_space({"parameters": {"lr": spec}}, source="s.yaml")
    assert "parameter 'lr'" in err.value.message and message in err.value.message
    assert err.value.message.startswith("search space s.yaml")


@pytest.mark.parametrize("data,message", [
    ([1, 2], "expected a mapping"),
    ({"parameters": {}}, "'parameters' is missing or empty"),
    ({"params": {"x": {"values": [1]}}}, "unknown top-level key 'params'"),
    ({"parameters": {"x": {"value": 1}}}, "every parameter is fixed"),
    ({"parameters": {"x": {"values": [1, 2]}}, "method": "hyperopt"}, "method 'hyperopt' is not supported"),
    ({"parameters": {"x": {"values": [1, 2]}}, "direction": "up"}, "must be minimize or maximize"),
    ({"parameters": {"x": {"values": [1, 2]}}, "early_terminate": {"type": "envelope"}}, "only {type: hyperband"),
])
def test_bad_spaces(data, message):
    with pytest.raises(ConfigError, match="search space") as err:
        parse_space(data)
    assert message in err.value.message


def test_wandb_program_keys_are_ignored_and_hyperband_read():
    space = parse_space({"program": "train.py", "project": "A2", "method": "bayes",
                         "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 2},
                         "parameters": {"x": {"values": [1, 2]}}})
    assert space.method == "tpe" and space.early_terminate == {"min_iter": 3, "eta": 2}


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("parameters:\n  lr: {type: float, low: 0.1, high: 1\n  wd: {type: float}\n")
    with pytest.raises(ConfigError) as err:
        load_space(path)
    assert f"search space {path}: invalid YAML at line 3" in err.value.message


def test_semantic_error_names_the_line(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("# comment\nparameters:\n  x: {values: [1, 2]}\n  lr: {type: float, low: 2, high: 1}\n")
    with pytest.raises(ConfigError) as err:
        load_space(path)
    assert f"search space {path} line 4: parameter 'lr'" in err.value.message


def test_missing_and_directory_space(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_space(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is not a file"):
        load_space(tmp_path)
