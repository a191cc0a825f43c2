"""The `dlcc.json` document an exported model carries: what a user of the file needs besides
the graph — which recipe made it, the task, the run's config, and the run's artifacts (label
names, input preprocessing, chosen thresholds, vocabulary) — as plain JSON.

    {"format": "dlcc-export/1", "recipe": "cifar10-fast", "task": "classification",
     "config": {...}, "artifacts": {"classes": [...], "input": {"shape": [3, 32, 32], ...}},
     "input_names": ["input"], "output_names": ["logits"],
     "dynamic_axes": {"input": {"0": "batch"}, "logits": {"0": "batch"}},
     "input_dtype": "float32", "input_shape": [null, 3, 32, 32], "spatial_multiple": null,
     "exporter": "onnx (torch.export)", "torch_version": "2.14.1"}

ONNX files keep it in `metadata_props["dlcc.json"]`, TorchScript files in the extra file
`dlcc.json` of the archive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dlcc.errors import DataError

FORMAT = "dlcc-export/1"
KEY = "dlcc.json"
REQUIRED = ("format", "recipe", "task", "config", "artifacts", "input_names", "output_names", "dynamic_axes")


def make_metadata(*, recipe: str, task: str, config: dict, artifacts: dict, input_names: list[str],
                  output_names: list[str], dynamic_axes: dict[str, dict[int, str]], **extra: Any) -> dict:
    """The `dlcc.json` document (see the module docstring); `extra` adds keys such as
    `input_dtype`, `input_shape` and `spatial_multiple`. Raises if something is not JSON."""
    doc = _jsonable({"format": FORMAT, "recipe": recipe, "task": task, "config": config, "artifacts": artifacts,
           "input_names": list(input_names), "output_names": list(output_names),
           "dynamic_axes": {name: {str(k): v for k, v in axes.items()} for name, axes in dynamic_axes.items()},
           **extra})
    json.dumps(doc, allow_nan=False)   # fail here, not in a user's loader
    return doc


def _jsonable(obj: Any) -> Any:
    """Tensors and arrays (e.g. a mean image among the artifacts) as nested lists."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and callable(obj.tolist):   # torch.Tensor, numpy arrays and scalars
        return obj.tolist()
    return obj


def parse_metadata(text: str | bytes | None, path: Path) -> dict:
    """The validated document from its JSON text; a `DataError` naming `path` otherwise."""
    if not text:
        raise DataError(f"{path} is a model file but not a dlcc export (it has no {KEY} metadata)",
                        fix="export it with `dlcc export RUN_DIR`, or open it with onnxruntime / torch.jit directly")
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: its {KEY} metadata is not valid JSON ({exc})", fix="export the run again") from None
    missing = [k for k in REQUIRED if not isinstance(doc, dict) or k not in doc]
    if missing:
        raise DataError(f"{path}: its {KEY} metadata lacks {', '.join(missing)}", fix="export the run again")
    if doc["format"] != FORMAT:
        raise DataError(f"{path} is a {doc['format']!r} export; this dlcc reads {FORMAT!r}",
                        fix="export the run again with this version of dlcc")
    return doc
