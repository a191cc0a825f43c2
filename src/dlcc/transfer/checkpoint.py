"""backbone.pt: a backbone's weights with its architecture's name and config.

    save_backbone("run/backbone.pt", backbone, "fastnet", {"widths": [32, 64, 128]})
    info = read_backbone("run/backbone.pt")        # {"architecture", "config", "state", "source"}
    load_backbone(backbone, "run/backbone.pt")     # strict: every layer must match

The file is a plain dict of tensors, strings and numbers, so `torch.load(path,
weights_only=True)` reads it (no pickled classes, nothing executed on load):

    {"format": "dlcc-backbone", "version": 1, "architecture": "fastnet",
     "config": {...}, "state": {name: tensor}, "source": {...}}

`read_backbone` also accepts a `dlcc run` model.pt (format dlcc-model: the backbone is the
weights minus the classifier `head.*`) and a bare state dict (e.g. an encoder another method
saved), with an optional `backbone.` / `encoder.` prefix on the keys. Loading into a network of
another architecture fails with a `ConfigError` that names the layers that differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from dlcc.errors import ConfigError, DataError

FORMAT = "dlcc-backbone"
VERSION = 1
SHOWN = 4          # layers named per kind of mismatch; the rest are counted
_PREFIXES = ("backbone.", "encoder.")
_HEADS = ("head.",)


def save_backbone(path: str | Path, backbone: nn.Module, architecture: str, config: dict[str, Any],
                  source: dict[str, Any] | None = None) -> Path:
    """Write `backbone`'s weights (CPU copies) with `architecture` and `config` to `path`."""
    from dlcc.train.checkpoint import save_checkpoint
    from dlcc.utils.io import to_builtin

    state = {k: v.detach().cpu().clone() for k, v in backbone.state_dict().items()}
    return save_checkpoint(path, {"format": FORMAT, "version": VERSION, "architecture": architecture,
                                  "config": to_builtin(config), "state": state,
                                  "source": to_builtin(source or {})})


def resolve_backbone_path(path: str | Path) -> Path:
    """`path` itself, or `path/backbone.pt` when `path` is a run directory; DataError if missing."""
    p = Path(path).expanduser()
    if p.is_dir():
        if (p / "backbone.pt").is_file():
            return p / "backbone.pt"
        raise DataError(f"run directory {p} holds no backbone.pt",
                        fix="give the directory of a `dlcc run cifar10-pretrain` run, or the path of a backbone file")
    if not p.is_file():
        raise DataError(f"backbone file {p} does not exist",
                        fix="train one with `dlcc run cifar10-pretrain --out DIR`, then --set transfer.backbone=DIR")
    return p


def read_backbone(path: str | Path) -> dict[str, Any]:
    """{"architecture" (None if unrecorded), "config", "state", "source", "path"} from a backbone
    file, a dlcc model.pt or a bare state dict (see the module docstring)."""
    from dlcc.train.checkpoint import load_checkpoint

    p = resolve_backbone_path(path)
    raw = load_checkpoint(p)
    if isinstance(raw, dict) and raw.get("format") == FORMAT:
        return {"architecture": raw.get("architecture"), "config": dict(raw.get("config") or {}),
                "state": dict(raw["state"]), "source": dict(raw.get("source") or {}), "path": p}
    if isinstance(raw, dict) and raw.get("format") == "dlcc-model":   # a `dlcc run` model.pt
        state = {k: v for k, v in raw["model"].items() if not k.startswith(_HEADS)}
        return {"architecture": None, "config": {}, "state": state, "source": {"model": str(p)}, "path": p}
    state = raw.get("state_dict", raw.get("model", raw)) if isinstance(raw, dict) else None
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataError(f"{p} holds no backbone weights (neither a dlcc backbone file, a dlcc model.pt, "
                        "nor a state dict of tensors)", fix="give the backbone.pt that `dlcc run cifar10-pretrain` wrote")
    for prefix in _PREFIXES:
        if all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
    return {"architecture": None, "config": {}, "state": state, "source": {}, "path": p}


def describe_mismatch(expected: dict[str, torch.Size], found: dict[str, torch.Size]) -> list[str]:
    """What differs between two {layer name: shape} maps, one phrase per kind (empty: they match).

    Each phrase gives the count and the first `SHOWN` names: missing (expected, not found),
    unexpected (found, not expected), and shape mismatches (`name [found] != [expected]`).
    """
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = [f"{k} {list(found[k])} != {list(expected[k])}" for k in expected
              if k in found and tuple(found[k]) != tuple(expected[k])]
    out = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("shape-mismatched", shapes)):
        if items:
            more = f", ... ({len(items) - SHOWN} more)" if len(items) > SHOWN else ""
            out.append(f"{len(items)} {label} ({', '.join(items[:SHOWN])}{more})")
    return out


def load_backbone(backbone: nn.Module, path: str | Path, architecture: str | None = None,
                  config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Copy the weights of the backbone file at `path` into `backbone`; returns `read_backbone`'s dict.

    `architecture` and `config` describe `backbone` (what the run asked for); they only make
    the error message more helpful. Raises ConfigError naming the mismatching layers when the
    file's weights do not fit `backbone` exactly (no partial loads: a half-loaded backbone
    would silently be a different experiment).
    """
    info = read_backbone(path)
    state = info["state"]
    expected = {k: v.shape for k, v in backbone.state_dict().items()}
    problems = describe_mismatch(expected, {k: v.shape for k, v in state.items()})
    if problems:
        found = info["architecture"] or "an unrecorded architecture"
        if info["config"]:
            found += f" {_config_text(info['config'])}"
        wanted = f"{architecture or type(backbone).__name__}"
        if config:
            wanted += f" {_config_text(config)}"
        hint = (f"--set {' '.join(f'model.{k}={_value_text(v)}' for k, v in info['config'].items())}"
                if info["architecture"] == architecture and info["config"] else
                "give a backbone saved from the same architecture (dlcc run cifar10-pretrain with the same model.* settings)")
        raise ConfigError(f"backbone {info['path']} does not fit this run's network: the file holds {found}, the run "
                          f"builds {wanted}; layers: {'; '.join(problems)}", fix=hint)
    backbone.load_state_dict(state, strict=True)
    return info


def _config_text(config: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={_value_text(v)}" for k, v in config.items()) + ")"


def _value_text(value: Any) -> str:
    return str(value).replace(" ", "") if isinstance(value, (list, tuple)) else str(value)
