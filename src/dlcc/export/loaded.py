"""Opening an exported model without dlcc's training code and without unpickling.

    model = load_exported("cifar10-fast.onnx")            # or a .pt TorchScript archive
    model.task, model.artifacts["classes"], model.metadata["recipe"]
    logits = model(batch)                                 # numpy [B, 3, 32, 32] float32 -> numpy

ONNX files run in onnxruntime (an `InferenceSession`: protobuf, no Python objects);
TorchScript archives load with `torch.jit.load`, whose unpickler reads only TorchScript's own
types (tensors, numbers, strings, containers), never arbitrary Python classes. The input must
already be preprocessed as `artifacts["input"]` says (e.g. `(pixels/255 - mean)/std`); sizes
that are not multiples of `spatial_multiple` (U-Nets) are reflect-padded and the output cropped.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from dlcc.errors import DataError, InputError
from dlcc.export.metadata import KEY, parse_metadata


class ExportedModel:
    """A loaded export: `metadata` (the dlcc.json document), `artifacts`, `task`, `format`
    ("onnx" | "torchscript"), and `__call__(batch) -> numpy array` (the first output)."""

    def __init__(self, path: Path, metadata: dict, runner, fmt: str):
        self.path, self.metadata, self._run, self.format = path, metadata, runner, fmt

    @property
    def artifacts(self) -> dict[str, Any]:
        return self.metadata.get("artifacts") or {}

    @property
    def task(self) -> str:
        return self.metadata["task"]

    @property
    def input_dtype(self) -> np.dtype:
        return np.dtype(self.metadata.get("input_dtype", "float32"))

    def __call__(self, batch) -> np.ndarray:
        x = np.ascontiguousarray(np.asarray(batch), dtype=self.input_dtype)
        shape = self.metadata.get("input_shape")
        if shape and (x.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape[1:], x.shape[1:]))):
            want = "[" + ", ".join("N" if s is None else str(s) for s in shape) + "]"
            raise InputError(f"{self.path.name} takes input {want}, got {list(x.shape)}",
                             fix=f"preprocess as its artifacts['input'] says: {self.artifacts.get('input')}")
        multiple = self.metadata.get("spatial_multiple")
        if multiple and x.ndim == 4 and (x.shape[2] % multiple or x.shape[3] % multiple):
            ph, pw = -x.shape[2] % multiple, -x.shape[3] % multiple
            top, left = ph // 2, pw // 2
            mode = "reflect" if min(x.shape[2:]) > max(ph, pw) else "edge"
            padded = np.pad(x, ((0, 0), (0, 0), (top, ph - top), (left, pw - left)), mode=mode)
            return self._run(padded)[..., top:top + x.shape[2], left:left + x.shape[3]]
        return self._run(x)


def _onnx(path: Path, threads: int | None, spin: bool) -> ExportedModel:
    try:
        import onnxruntime as ort
    except ImportError:
        raise DataError(f"{path} is an ONNX model and onnxruntime is not installed",
                        fix="pip install 'dlcc[export]'") from None
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads, options.inter_op_num_threads = int(threads), 1
    options.log_severity_level = 3
    if not spin:   # idle threads sleep instead of spinning (a machine shared with other jobs)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:   # onnxruntime raises its own exception types for bad files
        raise DataError(f"{path} is not a readable ONNX model ({str(exc).splitlines()[0][:200]})",
                        fix="export the run again (`dlcc export RUN_DIR --format onnx`)") from None
    metadata = parse_metadata(session.get_modelmeta().custom_metadata_map.get(KEY), path)
    name = session.get_inputs()[0].name
    return ExportedModel(path, metadata, lambda x: session.run(None, {name: x})[0], "onnx")


def _torchscript(path: Path, threads: int | None) -> ExportedModel:
    import torch

    extra = {KEY: ""}
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)   # "torch.jit is deprecated"
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except Exception as exc:   # torch raises RuntimeError / ValueError for bad archives
        raise DataError(f"{path} is not a readable TorchScript archive ({str(exc).splitlines()[0][:200]})",
                        fix="export the run again (`dlcc export RUN_DIR --format torchscript`)") from None
    metadata = parse_metadata(extra[KEY], path)
    module.eval()
    if threads:   # torch's thread count is process-wide
        torch.set_num_threads(int(threads))

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = module(torch.from_numpy(x))
        return (out[0] if isinstance(out, (tuple, list)) else out).numpy()

    return ExportedModel(path, metadata, run, "torchscript")


def load_exported(path: str | Path, threads: int | None = None, spin: bool = True) -> ExportedModel:
    """Open an ONNX or TorchScript export written by `dlcc export` (see the module docstring).

    A missing, corrupt or foreign file is a `DataError` naming it. `threads` limits the
    runtime's threads (None: its default; for TorchScript it sets torch's process-wide count);
    `spin=False` makes onnxruntime's idle threads sleep rather than spin (for shared machines).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist" if not path.exists() else f"{path} is not a file",
                        fix="give the path of a file written by `dlcc export`")
    if zipfile.is_zipfile(path):
        return _torchscript(path, threads)
    return _onnx(path, threads, spin)
