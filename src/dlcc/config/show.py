"""`render(cfg)`: a config as YAML with every key's help and type as a comment (`--show`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from dlcc.config.schema import Key, hints, is_section, keys
from dlcc.config.values import _yaml_text


def render(cfg: Any, width: int = 34) -> str:
    """YAML text of `cfg` that `from_dict` reads back, each leaf followed by `# help [type]`."""
    lines: list[str] = []
    info = {k.name: k for k in keys(cfg)}
    _render(cfg, "", 0, info, lines, width)
    return "\n".join(lines) + "\n"


def _render(cfg: Any, prefix: str, depth: int, info: dict[str, Key], lines: list[str], width: int) -> None:
    indent = "  " * depth
    types_ = hints(type(cfg))
    for f in dataclasses.fields(cfg):
        value, name = getattr(cfg, f.name), prefix + f.name
        if is_section(types_[f.name]):
            help_ = f.metadata.get("help", "")
            lines.append(f"{indent}{f.name}:" + (f"{' ' * max(1, width - len(indent) - len(f.name) - 1)}# {help_}" if help_ else ""))
            _render(value, name + ".", depth + 1, info, lines, width)
            continue
        key = info[name]
        text = f"{indent}{f.name}: {_yaml_text(value)}"
        note = f"{key.help} [{key.describe_type()}]" if key.help else f"[{key.describe_type()}]"
        lines.append(f"{text}{' ' * max(1, width - len(text))}# {note}")
