"""Search spaces: parse the YAML file (dlcc's own schema or a wandb-style sweep dict).

dlcc schema (see docs/tuning.md):

    metric: val_accuracy          # a validation metric the recipe returns (default val_loss)
    direction: maximize           # default: minimize for *loss*/*error*, else maximize
    method: tpe                   # random | grid | tpe | coarse-to-fine (the CLI can override)
    parameters:
      optimizer.lr: {type: float, low: 1.0e-4, high: 0.3, log: true}
      weight_decay: {type: float, low: 0.0, high: 0.01, step: 0.001}
      batch_size:   {type: int, low: 64, high: 512, log: true}
      model.hidden: {type: categorical, choices: [[300, 200], [200, 100]]}
      seed:         {type: fixed, value: 1}

wandb-style (as in the course's A2 sweep), parameters by `values`, `value`, `min`/`max` or
`distribution` (constant, categorical, int_uniform, uniform, q_uniform, log_uniform,
log_uniform_values), plus `method` (bayes = tpe) and `metric: {name, goal}`.

Parameter names are the recipe's dotted config keys (as for `dlcc run --set`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dlcc.errors import ConfigError
from dlcc.tune.metric import resolve_metric

DOCS = "see docs/tuning.md for the search-space format"
METHODS = ("random", "grid", "tpe", "coarse-to-fine")
METHOD_ALIASES = {"bayes": "tpe", "coarse_to_fine": "coarse-to-fine", "c2f": "coarse-to-fine"}
TOP_KEYS = {"metric", "direction", "goal", "method", "parameters", "early_terminate", "coarse_to_fine"}
IGNORED_WANDB_KEYS = {"program", "command", "project", "entity", "name", "description", "run_cap"}


@dataclass
class Param:
    """One searched hyper-parameter.

    kind: "float" | "int" | "categorical" | "fixed". For numbers: low, high, log, step
    (step and log exclude each other). For categorical: choices (any YAML values; lists too).
    For fixed: value. `grid_points` sets how many values a numeric range gets in grid search.
    """

    name: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: list[Any] = field(default_factory=list)
    value: Any = None
    grid_points: int | None = None
    line: int | None = None  # where it is defined in the YAML file, for error messages

    def extremes(self) -> list[Any]:
        """Values that bound what this parameter can take (to validate against the recipe)."""
        if self.kind == "fixed":
            return [self.value]
        if self.kind == "categorical":
            return list(self.choices)
        return [self.low, self.high]


@dataclass
class SearchSpace:
    params: dict[str, Param]
    metric: str = "val_loss"
    direction: str = "minimize"
    method: str | None = None
    early_terminate: dict[str, int] | None = None   # wandb-style hyperband: min_iter, eta
    coarse_to_fine: dict[str, float] = field(default_factory=dict)  # coarse_fraction, top_fraction
    source: str = "<dict>"

    @property
    def searched(self) -> dict[str, Param]:
        return {k: p for k, p in self.params.items() if p.kind != "fixed"}

    @property
    def fixed(self) -> dict[str, Any]:
        return {k: p.value for k, p in self.params.items() if p.kind == "fixed"}

    def fingerprint(self) -> str:
        """A short hash of what defines the search (workers sharing a study must agree on it)."""
        params = {k: {f: v for f, v in asdict(p).items() if f != "line"} for k, p in sorted(self.params.items())}
        data = {"params": params,
                "metric": self.metric, "direction": self.direction}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_space(path: str | Path) -> SearchSpace:
    """Read and validate a search-space YAML file; errors name the file and line."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"search space file {path} does not exist", fix=f"check the path; {DOCS}")
    if not path.is_file():
        raise ConfigError(f"search space {path} is not a file", fix=f"pass a YAML file; {DOCS}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"search space {path} is not a text (UTF-8 YAML) file: byte {err.start} is invalid",
                          fix=f"pass the YAML search space, not a binary file; {DOCS}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"search space {path}: invalid YAML{where}: {problem}",
                          fix="fix the YAML syntax (indentation, ':' after keys, closing brackets)") from None
    return parse_space(data, source=str(path), lines=_key_lines(text))


def parse_space(data: Any, source: str = "<dict>", lines: dict[tuple, int] | None = None) -> SearchSpace:
    """Validate a search-space dict (dlcc or wandb style) and return a `SearchSpace`."""
    lines = lines or {}

    def fail(message: str, keys: tuple = (), fix: str = DOCS):
        line = lines.get(keys)
        where = f"{source} line {line}" if line else source
        raise ConfigError(f"search space {where}: {message}", fix=fix)

    if not isinstance(data, dict):
        fail(f"expected a mapping with a 'parameters' section, found {type(data).__name__}")
    unknown = set(data) - TOP_KEYS - IGNORED_WANDB_KEYS
    if unknown:
        key = sorted(unknown)[0]
        fail(f"unknown top-level key {key!r}; known keys: {', '.join(sorted(TOP_KEYS))}", (key,))
    params_raw = data.get("parameters")
    if not isinstance(params_raw, dict) or not params_raw:
        fail("'parameters' is missing or empty; it maps config keys to their ranges", ("parameters",))

    params = {}
    for name, spec in params_raw.items():
        name = str(name)
        try:
            params[name] = _parse_param(name, spec)
            params[name].line = lines.get(("parameters", name))
        except ConfigError as exc:
            fail(f"parameter {name!r}: {exc.message}", ("parameters", name), exc.fix or DOCS)
    if not any(p.kind != "fixed" for p in params.values()):
        fail("every parameter is fixed; nothing to search", ("parameters",))

    metric, direction = _metric(data, fail)
    method = data.get("method")
    if method is not None:
        method = METHOD_ALIASES.get(str(method).lower(), str(method).lower())
        if method not in METHODS:
            fail(f"method {data['method']!r} is not supported; use one of {', '.join(METHODS)}", ("method",))
    return SearchSpace(params=params, metric=metric, direction=direction, method=method,
                       early_terminate=_early_terminate(data.get("early_terminate"), fail),
                       coarse_to_fine=_coarse_to_fine(data.get("coarse_to_fine"), fail), source=source)


def _metric(data: dict, fail) -> tuple[str, str]:
    raw = data.get("metric", "val_loss")
    goal = data.get("direction", data.get("goal"))
    if isinstance(raw, dict):  # wandb: metric: {name: accu_val, goal: maximize}
        extra = set(raw) - {"name", "goal", "target"}
        if extra or "name" not in raw:
            fail("metric must be a name, or {name: ..., goal: minimize|maximize}", ("metric",))
        goal = raw.get("goal", goal)
        raw = raw["name"]
    try:
        metric = resolve_metric(str(raw))
    except ConfigError as exc:
        fail(exc.message, ("metric",), exc.fix)
    if goal is None:
        goal = "minimize" if any(w in metric for w in ("loss", "error", "mse", "mae")) else "maximize"
    goal = str(goal).lower()
    if goal not in ("minimize", "maximize"):
        fail(f"direction/goal {goal!r} must be minimize or maximize", ("direction",))
    return metric, goal


def _early_terminate(raw: Any, fail) -> dict[str, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or str(raw.get("type", "")).lower() != "hyperband":
        fail("early_terminate supports only {type: hyperband, min_iter: N, eta: N}", ("early_terminate",))
    try:
        return {"min_iter": int(raw.get("min_iter", 1)), "eta": int(raw.get("eta", 3))}
    except (TypeError, ValueError):
        fail("early_terminate min_iter and eta must be whole numbers", ("early_terminate",))


def _coarse_to_fine(raw: Any, fail) -> dict[str, float]:
    if raw is None:
        return {}
    allowed = {"coarse_fraction", "top_fraction"}
    if not isinstance(raw, dict) or set(raw) - allowed:
        fail(f"coarse_to_fine takes {', '.join(sorted(allowed))}", ("coarse_to_fine",))
    out = {}
    for key, value in raw.items():
        if not isinstance(value, (int, float)) or not 0 < value < 1:
            fail(f"coarse_to_fine.{key} must be a number between 0 and 1, found {value!r}", ("coarse_to_fine",))
        out[key] = float(value)
    return out


# ---------------------------------------------------------------- one parameter

NATIVE_FIELDS = {"type", "low", "high", "log", "step", "choices", "value", "grid_points"}
WANDB_FIELDS = {"values", "value", "min", "max", "distribution", "q", "grid_points"}
WANDB_DISTRIBUTIONS = ("constant", "categorical", "int_uniform", "uniform", "q_uniform",
                       "log_uniform", "log_uniform_values")


def _parse_param(name: str, spec: Any) -> Param:
    if not isinstance(spec, dict):
        raise ConfigError(f"expected a mapping such as {{type: float, low: 0.001, high: 0.1}}, found {spec!r}")
    if "type" in spec:
        param = _native(name, spec)
    else:
        param = _wandb(name, spec)
    gp = spec.get("grid_points")
    if gp is not None:
        if not isinstance(gp, int) or isinstance(gp, bool) or gp < 2:
            raise ConfigError(f"grid_points must be a whole number >= 2, found {gp!r}")
        param.grid_points = gp
    _check_range(param)
    return param


def _native(name: str, spec: dict) -> Param:
    unknown = set(spec) - NATIVE_FIELDS
    if unknown:
        raise ConfigError(f"unknown field {sorted(unknown)[0]!r}; fields: {', '.join(sorted(NATIVE_FIELDS))}")
    kind = str(spec["type"]).lower()
    if kind in ("float", "int"):
        for key in ("low", "high"):
            if key not in spec:
                raise ConfigError(f"type {kind} needs 'low' and 'high'")
        return Param(name, kind, low=_num(spec["low"], "low"), high=_num(spec["high"], "high"),
                     log=_bool(spec.get("log", False)), step=_num(spec["step"], "step") if "step" in spec else None)
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ConfigError("type categorical needs a non-empty list 'choices'")
        return Param(name, kind, choices=choices)
    if kind == "fixed":
        if "value" not in spec:
            raise ConfigError("type fixed needs 'value'")
        return Param(name, kind, value=spec["value"])
    raise ConfigError(f"type {spec['type']!r} is not one of float, int, categorical, fixed")


def _wandb(name: str, spec: dict) -> Param:
    unknown = set(spec) - WANDB_FIELDS
    if unknown:
        raise ConfigError(f"unknown field {sorted(unknown)[0]!r}; give 'type' (dlcc style) or one of "
                          f"values, value, min/max, distribution (wandb style)")
    dist = spec.get("distribution")
    if dist is None:
        if "values" in spec:
            dist = "categorical"
        elif "value" in spec:
            dist = "constant"
        elif "min" in spec and "max" in spec:
            both_int = all(isinstance(spec[k], int) and not isinstance(spec[k], bool) for k in ("min", "max"))
            dist = "int_uniform" if both_int else "uniform"
        else:
            raise ConfigError("give values: [...], value: x, or min and max")
    dist = str(dist).lower()
    if dist == "constant":
        return Param(name, "fixed", value=spec.get("value"))
    if dist == "categorical":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise ConfigError("distribution categorical needs a non-empty list 'values'")
        return Param(name, "categorical", choices=values)
    if dist not in WANDB_DISTRIBUTIONS:
        raise ConfigError(f"wandb distribution {dist!r} is not supported; supported: {', '.join(WANDB_DISTRIBUTIONS)}",
                          fix="use log_uniform_values for a log-scale range, or give values: [...]")
    if "min" not in spec or "max" not in spec:
        raise ConfigError(f"distribution {dist} needs 'min' and 'max'")
    low, high = _num(spec["min"], "min"), _num(spec["max"], "max")
    if dist == "int_uniform":
        return Param(name, "int", low=int(low), high=int(high))
    if dist == "uniform":
        return Param(name, "float", low=float(low), high=float(high))
    if dist == "q_uniform":
        q = _num(spec.get("q", 1), "q")
        kind = "int" if all(float(v).is_integer() for v in (low, high, q)) else "float"
        cast = int if kind == "int" else float
        return Param(name, kind, low=cast(low), high=cast(high), step=cast(q))
    if dist == "log_uniform":  # wandb: min/max are natural-log exponents
        return Param(name, "float", low=math.exp(low), high=math.exp(high), log=True)
    return Param(name, "float", low=float(low), high=float(high), log=True)  # log_uniform_values


def _num(value: Any, key: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key} must be a number, found {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{key} must be finite, found {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"log must be true or false, found {value!r}")
    return value


def _check_range(p: Param) -> None:
    if p.kind not in ("float", "int"):
        return
    if p.kind == "int":
        for key in ("low", "high", "step"):
            value = getattr(p, key)
            if value is not None and not float(value).is_integer():
                raise ConfigError(f"type int needs whole numbers, found {key}={value!r}")
            if value is not None:
                setattr(p, key, int(value))
    else:
        p.low, p.high = float(p.low), float(p.high)
        p.step = float(p.step) if p.step is not None else None
    if p.low > p.high:
        raise ConfigError(f"low ({p.low}) is greater than high ({p.high})")
    if p.log and p.low <= 0:
        raise ConfigError(f"a log-scale range needs low > 0, found low={p.low}",
                          fix="use log: false, or a positive low")
    if p.log and p.step is not None:
        raise ConfigError("log and step cannot be combined (Optuna samples either on a log scale or on a grid)")
    if p.step is not None and p.step <= 0:
        raise ConfigError(f"step must be > 0, found {p.step}")


def _key_lines(text: str) -> dict[tuple, int]:
    """Line numbers (1-based) of top-level keys and of each parameter, for error messages."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple, int] = {}
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            lines[(key.value,)] = key.start_mark.line + 1
            if key.value == "parameters" and isinstance(value, yaml.MappingNode):
                for pkey, _ in value.value:
                    lines[("parameters", pkey.value)] = pkey.start_mark.line + 1
    return lines
