"""Export and check in one call: write the file, open it the way a user will
(`load_exported`), and compare its outputs with the PyTorch model's on a batch it was not
exported with (another batch size; another height and width where those are dynamic).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from dlcc.errors import InputError
from dlcc.export.loaded import load_exported
from dlcc.export.onnx import to_onnx
from dlcc.export.torchscript import to_torchscript

FORMATS = ("onnx", "torchscript")


@dataclass
class ExportReport:
    path: Path
    format: str
    mode: str | None              # TorchScript: trace | script
    max_abs_diff: float           # exported vs PyTorch on the check batch
    check_shape: list[int]
    seconds: float


def max_abs_diff(model: nn.Module, exported, x: Tensor) -> float:
    """max |exported(x) - model(x)| (the first output), in float64."""
    with torch.no_grad():
        want = model(x)
    want = want[0] if isinstance(want, (tuple, list)) else want
    got = exported(x.numpy())
    if tuple(got.shape) != tuple(want.shape):
        raise InputError(f"the export gives shape {tuple(got.shape)} where the model gives {tuple(want.shape)}",
                         fix="report this: the exported graph differs from the model")
    return float(np.abs(got.astype(np.float64) - want.double().numpy()).max())


def export_model(model: nn.Module, example: Tensor, path: str | Path, metadata: dict, *, format: str = "onnx",
                 mode: str = "trace", input_axes: dict[int, str] | None = None, check: Tensor | None = None,
                 spatial_multiple: int | None = None) -> ExportReport:
    """Export `model` to `path` and check it (see the module docstring).

    Args:
        example: an input batch `[B ≥ 2, ...]` that fixes the static sizes.
        metadata: the dlcc.json document (`make_metadata`).
        format: "onnx" or "torchscript" (`mode` "trace" or "script").
        input_axes: dynamic input axes, e.g. {0: "batch", 2: "height", 3: "width"}.
        check: the batch to compare on (default: `example` with one more row).
        spatial_multiple: dynamic height/width must be multiples of this (U-Nets: 2**depth).
    """
    if format not in FORMATS:
        raise InputError(f"export format {format!r} is not one of {', '.join(FORMATS)}", fix="use --format onnx")
    path = Path(path)
    start = time.perf_counter()
    model = model.eval()
    if format == "onnx":
        to_onnx(model, example, path, metadata, input_axes=input_axes or {0: "batch"},
                spatial_multiple=spatial_multiple)
    else:
        to_torchscript(model, example, path, metadata, mode=mode)
    seconds = time.perf_counter() - start
    if check is None:
        check = torch.cat([example, example[:1]]) if not example.is_floating_point() else \
            torch.cat([example, torch.randn_like(example[:1])])
    diff = max_abs_diff(model, load_exported(path), check)
    return ExportReport(path, format, mode if format == "torchscript" else None, diff, list(check.shape), seconds)
