"""Inference latency of exported models: PyTorch eager vs TorchScript vs ONNX Runtime.

    python benchmarks/bench_export_latency.py [--threads 2] [--repeats 15] [--unet-size 256]

For the CIFAR-10 fast net (`cifar10-fast`), the course's small ResNet (`cifar10-resnet`) and
the U-Net (`isbi-unet`), each built as its recipe builds it (default settings; untrained
weights, which do not change the time), the script exports ONNX (torch.export + onnxscript)
and TorchScript (trace) with `dlcc.export.export_model`, opens both with `load_exported` (as a
user would) and times one forward pass at batch 1 and 32 on `--threads` threads. The three
engines run in turn, `--repeats` rounds after warm-up, so a change in machine load hits all
alike; the table gives the median wall time per batch, the throughput, ONNX Runtime's
throughput relative to eager PyTorch, and the max abs difference of the outputs at batch 32.
Waiting threads sleep in all three (OMP_WAIT_POLICY=PASSIVE; onnxruntime without spinning),
as they should on a machine shared with other jobs. Also the median process CPU time per
batch, which is steadier than wall time on a busy machine.

Bars (issue 14): onnxruntime >= 1.0x eager throughput at batch 32, outputs within 1e-4.
Writes benchmarks/results/export_latency.{md,json}.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # before torch is imported

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, loadavg, machine_info, machine_markdown  # noqa: E402

from dlcc.export import export_model, load_exported, make_metadata  # noqa: E402
from dlcc.recipes import get_recipe  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ENGINES = ("eager", "torchscript", "onnxruntime")


def models(unet_size: int) -> dict:
    """name -> (model in eval mode, one sample's shape, dynamic axes, spatial multiple)."""
    out = {}
    for recipe, label in (("cifar10-fast", "CIFAR-10 fast net"), ("cifar10-resnet", "small ResNet (course)")):
        r = get_recipe(recipe)
        out[label] = (r.build_model(r.defaults(), {}).eval(), (3, 32, 32), {0: "batch"}, None)
    r = get_recipe("isbi-unet")
    cfg = r.defaults()
    out[f"U-Net (isbi-unet, {unet_size}²)"] = (r.build_model(cfg, {"input": {"channels": 1}}).eval(),
                                               (1, unet_size, unet_size), {0: "batch", 2: "height", 3: "width"},
                                               2 ** cfg.model.depth)
    return out


def time_engines(calls: dict, repeats: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds per call of each engine, run in turn."""
    for call in calls.values():   # warm-up (allocations, ORT's first-run planning)
        call(), call()
    wall = {k: [] for k in calls}
    cpu = {k: [] for k in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            t, c = time.perf_counter(), time.process_time()
            call()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    return {k: {"wall_s": statistics.median(wall[k]), "cpu_s": statistics.median(cpu[k])} for k in calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--unet-size", type=int, default=256)
    parser.add_argument("--name", default="export_latency")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = {"start": loadavg()}
    results = []
    with tempfile.TemporaryDirectory(prefix="dlcc-export-") as tmp:
        for name, (model, shape, axes, multiple) in models(args.unet_size).items():
            meta = make_metadata(recipe=name, task="benchmark", config={}, artifacts={}, input_names=["input"],
                                 output_names=["out"], dynamic_axes={"input": axes})
            example = torch.randn(2, *shape)
            files = {}
            for fmt, suffix in (("onnx", ".onnx"), ("torchscript", ".pt")):
                path = Path(tmp) / f"{len(results)}{suffix}"
                report = export_model(model, example, path, meta, format=fmt, input_axes=axes,
                                      spatial_multiple=multiple)
                print(f"{name}: {fmt} exported in {report.seconds:.1f} s, check max abs diff "
                      f"{report.max_abs_diff:.2e}", flush=True)
                files[fmt] = path
            exported = {"torchscript": load_exported(files["torchscript"], threads=args.threads),
                        "onnxruntime": load_exported(files["onnx"], threads=args.threads, spin=False)}
            torch.set_num_threads(args.threads)
            for batch in (1, 32):
                x = torch.randn(batch, *shape, generator=torch.Generator().manual_seed(batch))
                xn = x.numpy()

                def eager(x=x):
                    with torch.no_grad():
                        return model(x)

                calls = {"eager": eager, "torchscript": lambda xn=xn: exported["torchscript"](xn),
                         "onnxruntime": lambda xn=xn: exported["onnxruntime"](xn)}
                want = eager().numpy().astype(np.float64)
                diffs = {k: float(np.abs(calls[k]().astype(np.float64) - want).max()) for k in ENGINES[1:]}
                times = time_engines(calls, args.repeats)
                row = {"model": name, "batch": batch, "times": times, "max_abs_diff": diffs,
                       "throughput": {k: batch / v["wall_s"] for k, v in times.items()},
                       "ort_vs_eager": times["eager"]["wall_s"] / times["onnxruntime"]["wall_s"],
                       "ort_vs_eager_cpu": times["eager"]["cpu_s"] / times["onnxruntime"]["cpu_s"]}
                results.append(row)
                print(f"{name} batch {batch}: " + ", ".join(f"{k} {1e3 * v['wall_s']:.1f} ms" for k, v in times.items())
                      + f"; ORT/eager {row['ort_vs_eager']:.2f}x; diffs {diffs}", flush=True)
            load[name] = loadavg()

    table = ["| model | batch | eager (ms) | TorchScript (ms) | ONNX Runtime (ms) | ORT / eager throughput | "
             "(by CPU time) | max abs diff TS / ORT |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        t = r["times"]
        table.append(f"| {r['model']} | {r['batch']} | {1e3 * t['eager']['wall_s']:.2f} | "
                     f"{1e3 * t['torchscript']['wall_s']:.2f} | {1e3 * t['onnxruntime']['wall_s']:.2f} | "
                     f"{r['ort_vs_eager']:.2f}x | {r['ort_vs_eager_cpu']:.2f}x | "
                     f"{r['max_abs_diff']['torchscript']:.1e} / {r['max_abs_diff']['onnxruntime']:.1e} |")
    at32 = [r for r in results if r["batch"] == 32]
    speed_ok = all(r["ort_vs_eager"] >= 1.0 for r in at32)
    diff_ok = all(max(r["max_abs_diff"].values()) <= 1e-4 for r in results)
    ratios = ", ".join(f"{r['model']} {r['ort_vs_eager']:.2f}x" for r in at32)
    text = "\n".join([
        f"# Inference latency of exported models ({args.threads} threads)",
        "",
        "Median wall time of one forward pass per batch (engines in turn, "
        f"{args.repeats} rounds after warm-up); ONNX Runtime / eager is the throughput ratio (by wall time, and "
        "by process CPU time). Models as their recipes build them, untrained weights. Exports: "
        "`dlcc.export.export_model` (ONNX through torch.export + onnxscript; TorchScript by trace), opened "
        "with `dlcc.export.load_exported`.",
        "",
        *table,
        "",
        f"Bars: ONNX Runtime >= 1.0x eager throughput at batch 32 for every model: "
        f"**{'reached' if speed_ok else 'NOT reached'}** "
        f"({ratios}); outputs within 1e-4: "
        f"**{'reached' if diff_ok else 'NOT reached'}**.",
        "",
        "Load average (1, 5, 15 min) at the start and after each model: "
        + "; ".join(f"{k} {v}" for k, v in load.items()) + ". " + LOAD_NOTE,
        "",
        "Machine:",
        machine_markdown(),
        "",
    ])
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.md").write_text(text)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(
        {"threads": args.threads, "repeats": args.repeats, "unet_size": args.unet_size, "results": results,
         "loadavg": load, "machine": machine_info()}, indent=2))


if __name__ == "__main__":
    main()
