"""Recipe configs: nested dicts, `--set key.sub=value` overrides, validation against defaults."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from dlcc.errors import ConfigError


def parse_override(text: str) -> tuple[list[str], Any]:
    """'model.hidden=[256,128]' -> (['model', 'hidden'], [256, 128]). Values are YAML."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r} is not of the form key=value", fix="e.g. --set epochs=5")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {text!r} has an empty key", fix="e.g. --set optimizer.lr=0.01")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw  # plain strings with odd characters stay strings
    if isinstance(value, str):
        try:  # YAML 1.1 reads "1e6" as a string; users mean the number
            value = float(value) if value.strip().lower() not in {"nan", "inf", "-inf"} else value
        except ValueError:
            pass
    return key.split("."), value


def apply_overrides(defaults: dict, overrides: list[str], strict: bool = True) -> dict:
    """Return a deep copy of `defaults` with each 'a.b=value' override applied.

    With `strict`, a key that is not in the defaults is an error (catches typos such as
    `--set epoch=5`); a value of a different type than the default is converted when that is
    lossless (int -> float) and rejected otherwise.
    """
    cfg = copy.deepcopy(defaults)
    for text in overrides:
        path, value = parse_override(text)
        node = cfg
        for i, part in enumerate(path[:-1]):
            if not isinstance(node.get(part), dict):
                if strict:
                    raise ConfigError(_unknown(path[: i + 1], node), fix=_known_keys(node))
                node[part] = {}
            node = node[part]
        last = path[-1]
        if strict and last not in node:
            raise ConfigError(_unknown(path, node), fix=_known_keys(node))
        node[last] = _coerce(".".join(path), node.get(last), value)
    return cfg


def _coerce(key: str, default: Any, value: Any) -> Any:
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"--set {key}={value!r}: expected true or false")
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, (int, float)) and not isinstance(value, (int, float)):
        raise ConfigError(f"--set {key}={value!r}: expected a number like the default {default!r}")
    if isinstance(default, int) and isinstance(value, float) and not isinstance(default, bool):
        if value.is_integer():
            return int(value)
        raise ConfigError(f"--set {key}={value!r}: expected a whole number like the default {default!r}")
    if isinstance(default, str) and not isinstance(value, str):
        return str(value)
    return value


def _unknown(path: list[str], node: dict) -> str:
    return f"unknown setting {'.'.join(path)!r}"


def _known_keys(node: dict) -> str:
    return "known settings here: " + ", ".join(sorted(node)) if node else "see `dlcc run RECIPE --show`"


def flatten(cfg: dict, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}, for trackers and tables."""
    out: dict[str, Any] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out
