"""Exporting trained models (ONNX, TorchScript) with the metadata a user of the file needs, and
opening such files without dlcc's training code.

    from dlcc.export import export_model, load_exported
    report = export_model(model, example, "model.onnx", metadata, format="onnx",
                          input_axes={0: "batch"})              # parity with onnxruntime checked
    model = load_exported("model.onnx"); model(batch)         # numpy in, numpy out

`dlcc export RUN_DIR --format onnx|torchscript` does this for a run directory. See docs/export.md.
"""

from dlcc.export.check import ExportReport, export_model, max_abs_diff
from dlcc.export.loaded import ExportedModel, load_exported
from dlcc.export.metadata import FORMAT, KEY, make_metadata, parse_metadata

__all__ = ["FORMAT", "KEY", "ExportReport", "ExportedModel", "export_model", "load_exported", "make_metadata",
           "max_abs_diff", "parse_metadata"]
