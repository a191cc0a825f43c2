"""`dlcc export RUN_DIR [--format onnx|torchscript] [--mode trace|script] [--out FILE] [--force] [--json]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dlcc.errors import InputError

SUFFIX = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}
TOLERANCE = 1e-4


def register(sub) -> None:
    p = sub.add_parser("export", help="export a trained run as ONNX or TorchScript, with its labels, "
                                      "preprocessing and thresholds as metadata")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory (written by `dlcc run`)")
    p.add_argument("--format", default="onnx", choices=["onnx", "torchscript"], help="file format (default onnx)")
    p.add_argument("--mode", choices=["trace", "script"],
                   help="TorchScript only: trace (record operations; the default) or script (compile the source)")
    p.add_argument("--out", metavar="FILE", help="output file (default RUN_DIR/model.onnx or "
                                                 "RUN_DIR/model.torchscript.pt)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_export)


def _out_path(args) -> Path:
    out = Path(args.out) if args.out else Path(args.run_dir) / f"model{SUFFIX[args.format]}"
    if out.is_dir():
        raise InputError(f"--out {out} is a directory",
                         fix=f"give a file name, e.g. --out {out / ('model' + SUFFIX[args.format])}")
    if not out.parent.is_dir():
        raise InputError(f"the folder of --out {out} does not exist", fix=f"mkdir -p {out.parent}")
    if out.exists() and not args.force:
        raise InputError(f"{out} already exists", fix="add --force to replace it, or choose another --out")
    return out


def cmd_export(args) -> int:
    import torch

    from dlcc.config import to_dict
    from dlcc.export import export_model, make_metadata
    from dlcc.recipes import load_run
    from dlcc.recipes._model_input import model_input

    if args.mode and args.format != "torchscript":   # would be ignored: say so rather than export something else
        raise InputError(f"--mode {args.mode} applies to TorchScript, not --format {args.format}",
                         fix="add --format torchscript, or drop --mode")
    args.mode = args.mode or "trace"
    run = load_run(args.run_dir)
    if not isinstance(run.model, torch.nn.Module):
        raise InputError(f"{args.run_dir} holds a NumPy model ({run.recipe.name}); export takes PyTorch runs",
                         fix="export a run of a PyTorch recipe (`dlcc run --list`)")
    out = _out_path(args)
    spec = model_input(run)
    output_axes = {0: "batch"} if spec.task != "segmentation" else {0: "batch", 2: "height", 3: "width"}
    exporter = "onnx (torch.export + onnxscript)" if args.format == "onnx" else f"torchscript ({args.mode})"
    metadata = make_metadata(recipe=run.recipe.name, task=spec.task, config=to_dict(run.config),
                             artifacts=run.artifacts, input_names=["input"], output_names=[spec.output_name],
                             dynamic_axes={"input": spec.input_axes, spec.output_name: output_axes},
                             input_dtype=spec.input_dtype, input_shape=spec.input_shape,
                             spatial_multiple=spec.spatial_multiple, exporter=exporter,
                             torch_version=torch.__version__.split("+")[0])
    if not args.json:
        print(f"exporting {run.recipe.name} ({type(run.model).__name__}) as {exporter} ...", file=sys.stderr)
    model = run.model.float().cpu().eval()
    report = export_model(model, spec.example, out, metadata, format=args.format, mode=args.mode,
                          input_axes=spec.input_axes, check=spec.check, spatial_multiple=spec.spatial_multiple)
    result = {"path": str(out), "format": args.format, "mode": report.mode, "task": spec.task,
              "recipe": run.recipe.name, "bytes": out.stat().st_size, "export_s": round(report.seconds, 2),
              "max_abs_diff": report.max_abs_diff, "check_shape": report.check_shape,
              "dynamic_axes": metadata["dynamic_axes"]}
    ok = report.max_abs_diff <= TOLERANCE
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        runtime = "onnxruntime" if args.format == "onnx" else "TorchScript"
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {spec.task}) in {report.seconds:.1f} s")
        print(f"{runtime} vs PyTorch on a {report.check_shape} batch: max abs diff {report.max_abs_diff:.2e}"
              + ("" if ok else f" - LARGER than {TOLERANCE:g}"))
        print("load it with: from dlcc.export import load_exported; model = load_exported(PATH); model(batch)")
    return 0 if ok else 1
