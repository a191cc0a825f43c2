"""`dlcc doctor [--json]`: is this machine ready for the course, and if not, what fixes it."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys

from dlcc.data.locations import cache_dir, explicit_dirs, source_dirs

# package -> (needed for, install command when missing)
REQUIRED = {
    "numpy": "pip install 'numpy>=1.24'",
    "torch": "pip install torch",
    "torchvision": "pip install torchvision",
    "scipy": "pip install scipy",
    "PIL": "pip install pillow",
    "tqdm": "pip install tqdm",
    "yaml": "pip install pyyaml",
    "matplotlib": "pip install matplotlib",
    "sklearn": "pip install scikit-learn",
}
OPTIONAL = {
    "wfdb": ("MIT-BIH ECG records", "pip install 'dlcc[signals]'"),
    "tensorboard": ("TensorBoard tracking", "pip install 'dlcc[track]'"),
    "mlflow": ("MLflow tracking", "pip install 'dlcc[track]'"),
    "wandb": ("Weights & Biases tracking (offline)", "pip install 'dlcc[track]'"),
    "optuna": ("hyper-parameter search", "pip install 'dlcc[tune]'"),
    "onnxruntime": ("ONNX export checks", "pip install 'dlcc[export]'"),
    "pytest": ("running tests (`dlcc course test`)", "pip install 'dlcc[test]'"),
}


def _version(module: str) -> str | None:
    try:
        mod = importlib.import_module(module)
    except Exception:  # a broken install is as good as missing here
        return None
    return str(getattr(mod, "__version__", "installed"))


def collect() -> dict:
    """Gather the report as a JSON-able dict: versions, devices, data dirs, problems."""
    report: dict = {"python": sys.version.split()[0], "platform": platform.platform(),
                    "packages": {}, "optional": {}, "problems": [], "notes": []}
    if sys.version_info < (3, 10):
        report["problems"].append({"problem": f"Python {report['python']} is too old (need >= 3.10)",
                                   "fix": "install Python 3.10 or newer and reinstall dlcc"})
    for module, fix in REQUIRED.items():
        version = _version(module)
        report["packages"][module] = version
        if version is None:
            report["problems"].append({"problem": f"required package {module} is missing or broken",
                                       "fix": fix})
    for module, (purpose, fix) in OPTIONAL.items():
        version = _version(module)
        report["optional"][module] = version
        if version is None:
            report["notes"].append({"note": f"optional {module} missing: needed for {purpose}", "fix": fix})
    if report["packages"].get("torch"):
        from dlcc.utils.device import describe_devices

        report["devices"] = describe_devices()
    report["data"] = _data_report(report)
    return report


def _data_report(report: dict) -> dict:
    data = {"explicit": [str(p) for p in explicit_dirs()], "sources": [], "cache": str(cache_dir())}
    for path in source_dirs():
        ok = path.is_dir()
        data["sources"].append({"path": str(path), "exists": ok})
        if not ok:
            report["problems"].append({"problem": f"DLCC_DATA names {path}, which is not a directory",
                                       "fix": f"export DLCC_DATA=<folder holding the datasets> (now {os.environ.get('DLCC_DATA')!r})"})
    cache = cache_dir()
    probe = cache if cache.exists() else next((p for p in cache.parents if p.exists()), None)
    if probe is None or not os.access(probe, os.W_OK):
        report["problems"].append({"problem": f"the data cache {cache} is not writable",
                                   "fix": "export DLCC_CACHE=<a folder you can write to>"})
    if not source_dirs():
        report["notes"].append({"note": "DLCC_DATA is not set: real datasets will be looked for in the cache or downloaded",
                                "fix": "export DLCC_DATA=/path/to/shared/data"})
    return data


def _print_human(report: dict) -> None:
    print(f"Python      {report['python']}  ({report['platform']})")
    for name, version in report["packages"].items():
        print(f"{name:<11} {version or 'MISSING'}")
    dev = report.get("devices")
    if dev:
        gpus = ", ".join(dev["cuda_devices"]) or "none"
        print(f"CPU         {dev['cpu_count']} cores, torch uses {dev['torch_threads']} threads")
        print(f"CUDA        {'yes: ' + gpus if dev['cuda'] else 'no'}")
        print(f"MPS         {'yes' if dev['mps'] else 'no'}")
    data = report["data"]
    for path in data["explicit"]:
        print(f"data-dir    {path}")
    for src in data["sources"]:
        print(f"DLCC_DATA   {src['path']}{'' if src['exists'] else '  (missing)'}")
    print(f"cache       {data['cache']}")
    for name, version in report["optional"].items():
        print(f"optional    {name:<12} {version or '-'}")
    for note in report["notes"]:
        print(f"note: {note['note']}\n      fix: {note['fix']}")
    if report["problems"]:
        for p in report["problems"]:
            print(f"PROBLEM: {p['problem']}\n      fix: {p['fix']}")
    else:
        print("healthy: dlcc is ready")


def run(args) -> int:
    report = collect()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_human(report)
    return 1 if report["problems"] else 0


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check Python, packages, devices and data directories")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)
