"""Reading values into a typed config: `--set` text, YAML/Python values, validation, dicts.

Two ways in, one set of rules:

- `parse_text("off", tp)` reads what a user typed after `--set key=`. It never guesses with
  YAML 1.1 (where `off`, `no` and `y` are booleans): a choice is matched as written, a list is
  `[64, 128]` or `64,128`, a number is a number.
- `coerce(value, tp)` takes a value that already has a Python type (from config.yaml, a preset
  or a search space) and checks or converts it losslessly (an int where a float is declared,
  a record number where a name is declared).

Every error names the key, what was found and what the key takes, and says how to fix it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import difflib
import math
import typing
from typing import Any, Literal

import yaml

from dlcc.config.schema import hints, is_section, keys, sections, type_name, union_members
from dlcc.errors import ConfigError

NULL_WORDS = {"null", "none", "~"}
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}


# ------------------------------------------------------------------------------- one value
def parse_text(text: str, tp: Any, key: str) -> Any:
    """The value of `tp` that `text` (as typed after `--set key=`) stands for."""
    raw = text.strip()
    members = union_members(tp)
    if type(None) in members and raw.lower() in NULL_WORDS | {""}:
        return None
    errors = []
    for member in sorted((m for m in members if m is not type(None)), key=_parse_order):
        try:
            return _parse_one(raw, member, key)
        except ConfigError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    raise _type_error(key, text, tp)


def _parse_order(tp: Any) -> int:
    """Try exact choices first, then booleans, numbers, lists, and free text last."""
    if typing.get_origin(tp) is Literal:
        return 0
    return {bool: 1, int: 2, float: 3}.get(tp, 5 if tp is str else 4)


def _parse_one(raw: str, tp: Any, key: str) -> Any:
    if typing.get_origin(tp) is Literal:
        for choice in typing.get_args(tp):
            if isinstance(choice, bool):
                if raw.lower() in (TRUE_WORDS if choice else FALSE_WORDS):
                    return choice
            elif str(choice).lower() == raw.lower():
                return choice
        raise _type_error(key, raw, tp)
    if tp is bool:
        if raw.lower() in TRUE_WORDS:
            return True
        if raw.lower() in FALSE_WORDS:
            return False
        raise _type_error(key, raw, tp)
    if tp is int:
        try:
            return int(raw, 10)
        except ValueError:
            value = _float(raw)
            if value is not None and value.is_integer():
                return int(value)
            raise _type_error(key, raw, tp) from None
    if tp is float:
        value = _float(raw)
        if value is None:
            raise _type_error(key, raw, tp)
        return value
    if tp is str:   # 'quoted text' keeps its spaces: --set "sample.prime='We, the '"
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            return raw[1:-1]
        return raw
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp) or (Any,)
        if raw.startswith("["):
            try:
                data = yaml.safe_load(raw)
            except yaml.YAMLError:
                raise _type_error(key, raw, tp, "it is not a complete list") from None
            if not isinstance(data, list):
                raise _type_error(key, raw, tp)
            return _items(data, item, key, raw, tp, coerce)
        parts = [p.strip() for p in raw.split(",")] if raw else []
        if any(not p for p in parts):
            raise _type_error(key, raw, tp, "it has an empty item")
        return _items(parts, item, key, raw, tp, parse_text)
    if is_section(tp):
        raise ConfigError(f"{key} is a section, not a single setting",
                          fix=f"set one of its keys, e.g. --set {keys(tp, key + '.')[0].name}=...")
    raise _type_error(key, raw, tp)


def _items(values: list, item_type: Any, key: str, raw: str, tp: Any, read) -> list:
    """Each item of a list read with `read` (parse_text or coerce); an error names the item."""
    out = []
    for i, value in enumerate(values):
        try:
            out.append(read(value, item_type, f"{key}[{i}]"))
        except ConfigError:
            raise _type_error(key, raw, tp, f"item {i + 1}, {_yaml_text(value)}, is not a {type_name(item_type)}") from None
    return out


def _float(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def coerce(value: Any, tp: Any, key: str) -> Any:
    """`value` (a Python/YAML value) as type `tp`, converted only when nothing is lost."""
    members = union_members(tp)
    if value is None:
        if type(None) in members:
            return None
        raise _type_error(key, value, tp)
    if isinstance(value, str) and str not in members and not any(typing.get_origin(m) is Literal for m in members):
        return parse_text(value, tp, key)   # '1e-3' from YAML 1.1, 'true' from a CSV ...
    for member in sorted((m for m in members if m is not type(None)), key=_parse_order):
        try:
            return _coerce_one(value, member, key)
        except ConfigError:
            continue
    raise _type_error(key, value, tp)


def _coerce_one(value: Any, tp: Any, key: str) -> Any:
    if typing.get_origin(tp) is Literal:
        for choice in typing.get_args(tp):
            if value == choice and type(value) is type(choice):
                return choice
            if isinstance(value, str) and isinstance(choice, str) and value.lower() == choice.lower():
                return choice
        raise _type_error(key, value, tp)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _type_error(key, value, tp)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _type_error(key, value, tp)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _type_error(key, value, tp)
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)          # record 100 -> "100"
        raise _type_error(key, value, tp)
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp) or (Any,)
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        return _items(items, item, key, _yaml_text(value), tp, coerce)
    if is_section(tp):
        if isinstance(value, dict):
            return from_dict(tp, value, "", key + ".")  # a section given whole: from its defaults
        raise ConfigError(f"{key} is a section; expected a mapping of its keys, found {value!r}",
                          fix=f"see the keys of {key} with `dlcc run RECIPE --show`")
    if tp is Any:
        return value
    raise _type_error(key, value, tp)


def _type_error(key: str, value: Any, tp: Any, why: str = "") -> ConfigError:
    shown = value if isinstance(value, str) else _yaml_text(value)
    reason = f" ({why})" if why else ""
    return ConfigError(f"{key}={shown!r} is not valid{reason}: {key} takes {type_name(tp)}",
                       fix=f"e.g. --set {key}={_example(tp)}")


_EXAMPLES = {bool: "true", int: "10", float: "0.001", str: "name"}


@contextlib.contextmanager
def _examples_in_range(key: str, tp: Any, meta: Any):
    """Re-raise a type error of `key` whose fix suggests `_example(tp)` with an example inside
    the setting's bounds (`meta`: the field's metadata; ge/gt/le/lt), so that following the
    fix never leads to an out-of-range error next."""
    try:
        yield
    except ConfigError as exc:
        general, bounded = f"e.g. --set {key}={_example(tp)}", f"e.g. --set {key}={_example(tp, meta)}"
        if exc.fix != general or bounded == general:
            raise
        raise ConfigError(exc.message, fix=bounded) from None


def _field_meta(node: Any, name: str) -> dict:
    return next((f.metadata for f in dataclasses.fields(node) if f.name == name), {})


def _example(tp: Any, meta: Any = None) -> str:
    """A value of type `tp` to suggest in a fix, within the bounds in `meta` when given."""
    members = [m for m in union_members(tp) if m is not type(None)]
    tp = members[0] if members else tp
    if tp in (int, float) and meta:
        try:
            _check_bounds("", tp(_EXAMPLES[tp]), meta)
        except ConfigError:
            return _in_range(meta)
    if typing.get_origin(tp) is Literal:
        choice = typing.get_args(tp)[0]
        return "true" if choice is True else "false" if choice is False else str(choice)
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp) or (Any,)
        one = _example(item, meta)   # bounds apply to every item
        return f"[{one},{one}]"
    return _EXAMPLES.get(tp, "...")


def _yaml_text(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
    return text[:-3].strip() if text.endswith("...") else text


# ---------------------------------------------------------------------------- whole configs
def _lookup(cfg: Any, path: list[str], full: str) -> tuple[Any, str, Any]:
    """(the section instance that holds the leaf, the leaf's name, its declared type)."""
    node = cfg
    for i, part in enumerate(path):
        names = {f.name for f in dataclasses.fields(node)}
        if part not in names:
            raise ConfigError(f"unknown setting {full!r}", fix=_nearest(cfg, full))
        tp = hints(type(node))[part]
        if i == len(path) - 1:
            return node, part, tp
        if not is_section(tp):
            raise ConfigError(f"unknown setting {full!r}: {'.'.join(path[:i + 1])} is a single setting, "
                              "not a section", fix=_nearest(cfg, full))
        node = getattr(node, part)
    raise ConfigError(f"unknown setting {full!r}", fix=_nearest(cfg, full))


def _nearest(cfg: Any, name: str) -> str:
    """A 'did you mean' fix: keys with the same last name anywhere (`epochs` -> `train.epochs`),
    else close names in the same section, else close dotted names."""
    names = [k.name for k in keys(cfg)] + sections(cfg)
    section_, _, leaf = name.rpartition(".")
    close = [n for n in names if n.rpartition(".")[2] == leaf]
    if not close:
        siblings = {n.rpartition(".")[2]: n for n in names if n.rpartition(".")[0] == section_}
        close = [siblings[m] for m in difflib.get_close_matches(leaf, siblings, n=3, cutoff=0.6)]
    if not close:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.8)
    listing = "`dlcc run RECIPE --show` lists every setting"
    return f"did you mean {' or '.join(close[:3])}? ({listing})" if close else listing


def split_override(text: str) -> tuple[str, str]:
    """'model.hidden=[64, 32]' -> ('model.hidden', '[64, 32]')."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r} is not of the form key=value", fix="e.g. --set train.epochs=5")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {text!r} has an empty key", fix="e.g. --set train.lr=0.01")
    return key, raw


def apply_overrides(cfg: Any, overrides: list[str]) -> Any:
    """A copy of `cfg` with each `key=value` text applied (values parsed against the types)."""
    cfg = copy.deepcopy(cfg)
    for text in overrides:
        key, raw = split_override(text)
        node, name, tp = _lookup(cfg, key.split("."), key)
        with _examples_in_range(key, tp, _field_meta(node, name)):
            setattr(node, name, parse_text(raw, tp, key))
    return cfg


def apply_values(cfg: Any, values: dict[str, Any], source: str = "") -> Any:
    """A copy of `cfg` with `{"dotted.key": python value}` applied (presets, search spaces)."""
    cfg = copy.deepcopy(cfg)
    for key, value in values.items():
        try:
            node, name, tp = _lookup(cfg, key.split("."), key)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc.message}" if source else exc.message, fix=exc.fix) from None
        with _examples_in_range(key, tp, _field_meta(node, name)):
            setattr(node, name, coerce(value, tp, key))
    return cfg


def validate(cfg: Any, prefix: str = "") -> Any:
    """Check every value against its type and bounds, then each section's `check(prefix)`.

    A section may define `check(self, where: str)` for rules between its keys (`where` is its
    dotted prefix, e.g. "train."); it raises `ConfigError`. Returns `cfg`.
    """
    types_ = hints(type(cfg))
    for f in dataclasses.fields(cfg):
        tp, value, key = types_[f.name], getattr(cfg, f.name), prefix + f.name
        if is_section(tp):
            if not isinstance(value, tp):
                raise ConfigError(f"{key} must be a section of type {tp.__name__}")
            validate(value, key + ".")
            continue
        with _examples_in_range(key, tp, f.metadata):
            value = coerce(value, tp, key)
        setattr(cfg, f.name, value)
        _check_bounds(key, value, f.metadata)
    check = getattr(cfg, "check", None)
    if callable(check):
        check(prefix)
    return cfg


def _check_bounds(key: str, value: Any, meta: dict) -> None:
    tests = {"ge": (lambda x, b: x >= b, ">="), "gt": (lambda x, b: x > b, ">"),
             "le": (lambda x, b: x <= b, "<="), "lt": (lambda x, b: x < b, "<")}
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, (int, float)) or isinstance(item, bool):
            continue
        if isinstance(item, float) and not math.isfinite(item):
            raise ConfigError(f"{key}={item} is not a finite number", fix=f"give {key} a finite value")
        for name, (ok, word) in tests.items():
            limit = meta.get(name)
            if limit is not None and not ok(item, limit):
                shown = value if isinstance(value, list) else item
                raise ConfigError(f"{key}={_yaml_text(shown)} is out of range: it must be {word} {limit:g}",
                                  fix=f"e.g. --set {key}={_in_range(meta)}")


def _in_range(meta: dict) -> str:
    """A value inside all of the bounds in `meta` (ge, gt, le, lt), as text."""
    ge, gt, le, lt = (meta.get(b) for b in ("ge", "gt", "le", "lt"))
    if ge is not None or le is not None:
        return f"{ge if ge is not None else le:g}"   # an inclusive bound is itself allowed
    if gt is not None and (lt is None or gt + 1 < lt):
        return f"{gt + 1:g}"          # a whole number when the bound is one (int settings)
    if gt is not None:
        return f"{(gt + lt) / 2:g}"   # a narrow open interval, such as a fraction in (0, 1)
    return f"{lt - 1:g}" if lt is not None else "1"


def to_dict(cfg: Any) -> dict:
    """Plain nested dict of `cfg` (what config.yaml records)."""
    return dataclasses.asdict(cfg)


def from_dict(base: Any, data: Any, source: str, prefix: str = "") -> Any:
    """`base` (a config instance, or a class for its defaults) updated from a nested dict such
    as config.yaml (named by `source` in errors). Unknown keys are errors; keys the dict lacks
    keep `base`'s values. Not validated: call `validate` afterwards."""
    cfg = base() if isinstance(base, type) else copy.deepcopy(base)
    where = f"{source}: " if source else ""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}{prefix.rstrip('.') or 'the config'} should be a mapping of settings, "
                          f"found {type(data).__name__}", fix="see `dlcc run RECIPE --show` for the layout")
    names = [f.name for f in dataclasses.fields(cfg)]
    unknown = sorted(set(map(str, data)) - set(names))
    if unknown:
        more = f" (+{len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise ConfigError(f"{where}unknown setting {prefix + unknown[0]!r}{more}",
                          fix=f"known settings{' in ' + prefix.rstrip('.') if prefix else ''}: {', '.join(names)}")
    types_ = hints(type(cfg))
    for name, value in data.items():
        tp, key = types_[name], prefix + name
        if is_section(tp):
            setattr(cfg, name, from_dict(getattr(cfg, name), value, source, key + "."))
        else:
            with _examples_in_range(key, tp, _field_meta(cfg, name)):
                setattr(cfg, name, coerce(value, tp, key))
    return cfg


def diff(old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """[(dotted key, old value, new value)] for every leaf that differs."""
    a = {k.name: k.default for k in keys(old)}
    b = {k.name: k.default for k in keys(new)}
    return [(k, a.get(k), b.get(k)) for k in a | b if a.get(k) != b.get(k)]
