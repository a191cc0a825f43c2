"""ONNX export through the current exporter (`torch.onnx.export(dynamo=True)`: torch.export
captures the graph, onnxscript translates it), with dynamic axes and `dlcc.json` metadata.

Dynamic axes: the batch always; height and width for fully convolutional networks such as
the U-Net. A U-Net halves its map `depth` times, so its exported sizes are multiples of
2**depth (`spatial_multiple`); `load_exported` pads other sizes and crops the result, as the
PyTorch model does inside `forward`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from dlcc.export.failures import export_failure
from dlcc.export.metadata import KEY


def dynamic_shapes(example: Tensor, axes: dict[int, str], multiple: int | None = None) -> tuple:
    """torch.export's `dynamic_shapes` for one input: axis -> Dim; spatial axes (not 0) are
    multiples of `multiple` when it is set."""
    from torch.export import Dim

    spec = {}
    for axis, name in axes.items():
        if axis != 0 and multiple:
            spec[axis] = multiple * Dim(f"{name}_blocks", min=1, max=4096 // multiple)
        else:
            spec[axis] = Dim(name, min=1, max=1 << 16)
    return (spec,)


@contextlib.contextmanager
def _quiet():
    """Silence the exporter's console output: its progress lines (stdout), the partial graph that
    torch.export prints to stderr on failure, torch's log warnings (handlers that hold the original
    stderr, so only `logging.disable` reaches them) and Python warnings about torch internals. A
    failure is reported once, as `export_failure`'s line."""
    sink, before = io.StringIO(), logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(before)


def to_onnx(model: nn.Module, example: Tensor, path: Path, metadata: dict, *, input_axes: dict[int, str],
            spatial_multiple: int | None = None, opset: int | None = None) -> Path:
    """Write `model` (eval mode) as ONNX to `path` with `metadata` in `metadata_props`.

    `example [B, ...]` fixes the static sizes (B ≥ 2, so the batch is not specialised to 1);
    `input_axes` names the input's dynamic axes (the outputs' follow from the graph).
    Raises `InputError` with the line of the model's code when the graph cannot be captured
    (e.g. control flow on tensor values).
    """
    model = model.eval()
    names_in, names_out = metadata["input_names"], metadata["output_names"]
    try:
        with _quiet():
            program = torch.onnx.export(model, (example,), None, dynamo=True, verbose=False, opset_version=opset,
                                        input_names=names_in, output_names=names_out,
                                        dynamic_shapes=dynamic_shapes(example, input_axes, spatial_multiple))
    except Exception as exc:   # torch.export / onnxscript raise many types; each becomes one line
        raise export_failure(exc, type(model).__name__) from exc
    program.model.metadata_props[KEY] = json.dumps(metadata)
    program.model.producer_name = "dlcc"
    tmp = path.with_name(path.name + ".tmp")
    try:   # write beside the target and rename: a failed write leaves no file and keeps an old one
        program.save(str(tmp), external_data=False)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
