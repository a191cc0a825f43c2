"""A5: save a trained model so that it runs without its Python code: TorchScript.

TorchScript turns a model into a program that `torch.jit.load` (or C++ libtorch) runs without
the model's class. Two ways: `torch.jit.trace` runs the model once on an example and records the
operations it saw - an `if` on the data is frozen to the branch the example took; and
`torch.jit.script` compiles the forward's Python source, control flow included. (PyTorch now
marks TorchScript as deprecated in favour of torch.export; the course teaches it, and it still
works. ONNX, the other format of the course, is what `dlcc export RUN_DIR --format onnx` writes.)

    python a5_model_saving_loading.py         # dlcc's MNIST classifier -> result/model_saving/

Check your work with `dlcc course test A5`.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch
from torch import nn

import util


def run_model_conversion(model: nn.Module, example: torch.Tensor, path, method: str = "trace") -> Path:
    """Save `model` (in eval mode) as TorchScript at `path`: traced on `example` for
    method="trace", compiled for method="script". The caller's model is not changed (work on
    a deep copy). Returns the path."""
    if method not in ("trace", "script"):
        raise ValueError(f"method must be 'trace' or 'script', got {method!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # === BEGIN SOLUTION A5.9 ===
    model = copy.deepcopy(model).eval()
    converted = torch.jit.trace(model, example) if method == "trace" else torch.jit.script(model)
    converted.save(str(path))
    # === END SOLUTION ===
    return path


def run_model_inference(path, x: torch.Tensor) -> torch.Tensor:
    """Load the TorchScript file at `path` (nothing else: no model class) and return its output
    for `x`, without gradients."""
    # === BEGIN SOLUTION A5.9 ===
    loaded = torch.jit.load(str(path))
    with torch.no_grad():
        y = loaded(x)
    # === END SOLUTION ===
    return y


def main(argv=None):
    parser = argparse.ArgumentParser(description="A5: TorchScript round trip of dlcc's MNIST classifier")
    parser.parse_args(argv)
    model = util.load_classifier()
    x, _ = util.load_mnist("test", 32)
    with torch.no_grad():
        reference = model(x)
    for method in ("trace", "script"):
        path = run_model_conversion(model, x[:1], util.RESULT_DIR / "model_saving" / f"classifier_{method}.pts", method)
        diff = (run_model_inference(path, x) - reference).abs().max().item()
        print(f"{method}: {path} ({path.stat().st_size:,} bytes), max |difference| {diff:.2e}")


if __name__ == "__main__":
    main()
