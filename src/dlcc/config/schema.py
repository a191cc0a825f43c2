"""Declaring settings: `setting(...)` and `section(...)` fields, and `keys(...)` to list them.

A setting is a dataclass field whose metadata holds its help text and bounds:

    lr: float = setting(1e-3, "peak learning rate", gt=0)
    hidden: list[int] = setting([256], "hidden sizes", ge=1)      # bounds apply to each item
    amp: Literal["auto", "off", "bf16", "fp16"] = setting("auto", "mixed precision (CUDA only)")

Types understood: bool, int, float, str, `Literal[...]` (the choices), `X | None`, `list[X]`,
unions of those (`bool | Literal["auto"]`), and nested dataclasses (sections).
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Union


def setting(default: Any, help: str = "", *, ge: float | None = None, gt: float | None = None,
            le: float | None = None, lt: float | None = None) -> Any:
    """A dataclass field with `help` and numeric bounds (checked by `validate`).

    Mutable defaults (lists) are copied for every instance.
    """
    meta = {"help": help, "ge": ge, "gt": gt, "le": le, "lt": lt}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def section(cls: type, help: str = "", **values: Any) -> Any:
    """A nested section: a field holding `cls(**values)` (a fresh instance per config)."""
    return field(default_factory=lambda: cls(**copy.deepcopy(values)), metadata={"help": help, "section": True})


@dataclass(frozen=True)
class Key:
    """One leaf setting: its dotted `name`, declared type, default, help and bounds."""

    name: str
    type: Any
    default: Any
    help: str
    bounds: dict[str, float]

    def describe_type(self) -> str:
        """'whole number >= 1, or null', 'one of auto, off, bf16, fp16', 'list of whole number'."""
        members = union_members(self.type)
        text = type_name(_drop_none(self.type))
        limits = [f"{_WORDS[k]} {v:g}" for k, v in self.bounds.items()]
        text += (" " + ", ".join(limits) if limits else "")
        return text + (", or null" if type(None) in members else "")


_WORDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _drop_none(tp: Any) -> Any:
    members = tuple(m for m in union_members(tp) if m is not type(None))
    return members[0] if len(members) == 1 else Union[members]


def hints(cls: type) -> dict[str, Any]:
    """Resolved field types of dataclass `cls` (annotations may be strings)."""
    return typing.get_type_hints(cls)


def is_section(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def keys(config: Any, prefix: str = "") -> list[Key]:
    """Every leaf setting of a config class or instance, depth first, in declaration order.

    Defaults are the instance's current values when an instance is given."""
    cls = config if isinstance(config, type) else type(config)
    instance = config if not isinstance(config, type) else cls()
    out: list[Key] = []
    types_ = hints(cls)
    for f in dataclasses.fields(cls):
        tp, value = types_[f.name], getattr(instance, f.name)
        name = f"{prefix}{f.name}"
        if is_section(tp):
            out.extend(keys(value, name + "."))
            continue
        bounds = {k: f.metadata[k] for k in ("ge", "gt", "le", "lt") if f.metadata.get(k) is not None}
        out.append(Key(name, tp, value, f.metadata.get("help", ""), bounds))
    return out


def sections(config: Any, prefix: str = "") -> list[str]:
    """Dotted names of the sections of a config (e.g. ['data', 'model', 'train'])."""
    cls = config if isinstance(config, type) else type(config)
    out = []
    for f in dataclasses.fields(cls):
        tp = hints(cls)[f.name]
        if is_section(tp):
            out.append(prefix + f.name)
            out.extend(sections(tp, prefix + f.name + "."))
    return out


def union_members(tp: Any) -> tuple[Any, ...]:
    """The members of `X | Y` or `Optional[X]`; `(tp,)` for anything else."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def type_name(tp: Any) -> str:
    """A short human description of a declared type."""
    members = union_members(tp)
    if len(members) > 1:
        real = [m for m in members if m is not type(None)]
        choices = [c for m in real for c in _choices(m)]
        if all(_choices(m) for m in real):     # e.g. bool | Literal["auto"]: auto, true, false
            text = "one of " + ", ".join(sorted(choices, key=lambda c: c in ("true", "false")))
        else:                                  # e.g. float | Literal["auto"]: number or auto
            named = [type_name(m) for m in real if not _choices(m)]
            if choices:
                named.append(choices[0] if len(choices) == 1 else "one of " + ", ".join(choices))
            text = " or ".join(named)
        return text + (" or null" if type(None) in members else "")
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(_literal_text(c) for c in typing.get_args(tp))
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp) or (Any,)
        return f"list of {_PLURALS.get(type_name(item), type_name(item))}"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "whole number"
    if tp is float:
        return "number"
    if tp is str:
        return "text"
    return getattr(tp, "__name__", str(tp))


_PLURALS = {"whole number": "whole numbers", "number": "numbers", "text": "texts", "true or false": "true/false values"}


def _choices(tp: Any) -> list[str]:
    """The finite values a type allows, as text (Literal choices, true/false), else []."""
    if typing.get_origin(tp) is Literal:
        return [_literal_text(c) for c in typing.get_args(tp)]
    if tp is bool:
        return ["true", "false"]
    return []


def _literal_text(choice: Any) -> str:
    if isinstance(choice, bool):
        return "true" if choice else "false"
    return str(choice)
