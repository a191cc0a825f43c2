"""From a `SearchSpace` to Optuna suggestions, grids, and `--set` overrides.

Optuna's categorical values must be None/bool/int/float/str, so a choice such as a list of
hidden sizes is stored as its JSON text ("[300, 200]") and decoded after sampling.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from dlcc.tune.space import Param, SearchSpace

DEFAULT_GRID_POINTS = 3  # per numeric range without step (a 3 x 3 grid for two, as in Lecture 4)
_PLAIN = (type(None), bool, int, float, str)


def encoded_choices(param: Param) -> list[Any]:
    """Choices as Optuna stores them (JSON text when any choice is not a plain scalar)."""
    if all(isinstance(c, _PLAIN) for c in param.choices):
        return list(param.choices)
    return [json.dumps(c) for c in param.choices]


def decode_choice(param: Param, stored: Any) -> Any:
    if all(isinstance(c, _PLAIN) for c in param.choices):
        return stored
    return json.loads(stored)


def suggest(trial, space: SearchSpace) -> dict[str, Any]:
    """Sample every searched parameter of `space` for an Optuna `trial`; return name -> value."""
    values: dict[str, Any] = {}
    for name, p in space.searched.items():
        if p.kind == "float":
            values[name] = trial.suggest_float(name, p.low, p.high, log=p.log, step=p.step)
        elif p.kind == "int":
            values[name] = trial.suggest_int(name, p.low, p.high, log=p.log, step=p.step or 1)
        else:
            values[name] = decode_choice(p, trial.suggest_categorical(name, encoded_choices(p)))
    return values


def decode_params(space: SearchSpace, stored: dict[str, Any]) -> dict[str, Any]:
    """Optuna's stored trial params (e.g. `study.best_params`) -> the values the recipe gets."""
    out = {}
    for name, value in stored.items():
        p = space.params.get(name)
        out[name] = decode_choice(p, value) if p is not None and p.kind == "categorical" else value
    return out


def grid_values(param: Param) -> list[Any]:
    """The finite list of values grid search tries for one parameter."""
    if param.kind == "categorical":
        return encoded_choices(param)
    n = param.grid_points
    if param.step is not None:
        count = int(math.floor((param.high - param.low) / param.step + 1e-9)) + 1
        grid = [param.low + i * param.step for i in range(count)]
        if n is not None and n < len(grid):  # thin an explicit step grid evenly
            grid = [grid[round(i * (len(grid) - 1) / (n - 1))] for i in range(n)]
    else:
        n = n or DEFAULT_GRID_POINTS
        if param.log:
            lo, hi = math.log(param.low), math.log(param.high)
            grid = [math.exp(lo + (hi - lo) * i / (n - 1)) for i in range(n)]
        else:
            grid = [param.low + (param.high - param.low) * i / (n - 1) for i in range(n)]
    if param.kind == "int":
        grid = sorted({int(round(v)) for v in grid})
    else:
        grid = [float(f"{v:.6g}") for v in grid]  # readable values: 0.001, not 0.0010000000000000002
        grid = [min(max(v, param.low), param.high) for v in grid]
    return list(dict.fromkeys(grid))


def grid_space(space: SearchSpace) -> dict[str, list[Any]]:
    return {name: grid_values(p) for name, p in space.searched.items()}


def grid_size(space: SearchSpace) -> int:
    return math.prod(len(v) for v in grid_space(space).values())


def yaml_value(value: Any) -> str:
    """A value as `--set` text that YAML reads back unchanged (1e-05 -> '1.0e-05')."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return text


def to_overrides(values: dict[str, Any]) -> list[str]:
    """{'optimizer.lr': 0.01, 'model.hidden': [64]} -> ['optimizer.lr=0.01', 'model.hidden=[64]']"""
    return [f"{name}={yaml_value(value)}" for name, value in values.items()]
