"""`dlcc doctor [--json] [--offline] [--url URL ...]`: is this machine ready for the course, and
if not, what fixes it.

Besides versions, devices and data folders, doctor opens one TLS connection to the package
index and to each data source, with the CA store each tool really uses (pip, requests, Python's
ssl), and says whether the network re-signs HTTPS (TLS interception) and how to make the tools
trust it. `--offline` or DLCC_OFFLINE=1 skips that; `--url` checks other addresses instead
(even offline: they were asked for).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys

from dlcc.data.locations import cache_dir, explicit_dirs, source_dirs

PACKAGE_INDEX = ("https://pypi.org/simple/", "https://files.pythonhosted.org/",
                 "https://download.pytorch.org/whl/")

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


def collect(urls: list[str] | None = None) -> dict:
    """Gather the report as a JSON-able dict: versions, devices, data dirs, problems.

    Args:
        urls: HTTPS addresses whose certificates to check; None checks none.
    """
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
    if urls:
        report["network"] = _network_report(report, urls)
    return report


def data_source_urls() -> list[str]:
    """One https://host/ per host the data registry downloads from."""
    from urllib.parse import urlsplit

    from dlcc.data.registry import registry

    hosts = []
    for spec in registry().values():
        for variant in spec.variants:
            for template in variant.url_templates:
                parts = urlsplit(template)
                if parts.scheme == "https" and parts.hostname not in hosts:
                    hosts.append(parts.hostname)
    return [f"https://{h}/" for h in hosts]


def _network_report(report: dict, urls: list[str]) -> list[dict]:
    """Check each URL with each tool's CA store; interception and TLS errors are problems."""
    from dlcc.utils.tls import ca_variable_problems, check_urls, interception_fix, tool_stores

    for name, path in ca_variable_problems():
        report["problems"].append({"problem": f"{name} points to {path}, which does not exist; "
                                              "every download that uses it will fail",
                                   "fix": f"unset {name}, or set it to an existing CA bundle (PEM)"})
    stores = tool_stores()
    by_file: dict = {}
    for tool, cafile in stores.items():       # tools sharing a CA file are checked once
        by_file.setdefault(cafile, []).append(tool)
    rows = []
    missing = {path for _, path in ca_variable_problems()}
    for cafile, tools in by_file.items():
        if cafile in missing:                 # already reported above, with its fix
            continue
        for result in check_urls(urls, cafile=cafile):
            row = result.as_dict() | {"tools": tools, "ca_file": cafile or "system default"}
            rows.append(row)
    intercepted = [r for r in rows if r["status"] == "intercepted"]
    if intercepted:
        tools = sorted({t for r in intercepted for t in r["tools"]})
        first = intercepted[0]
        signer = f", signed by {first['issuer']!r}" if first["issuer"] else ""
        report["problems"].append({
            "problem": f"TLS interception: {first['url']} presented a certificate that "
                       f"{', '.join(tools)} do(es) not trust ({first['detail']}{signer}; "
                       f"sha256 {first['fingerprint'][:16]}...). A proxy on this network re-signs HTTPS",
            "fix": interception_fix()})
    for r in rows:
        if r["status"] == "tls-error":
            report["problems"].append({"problem": f"TLS error for {r['url']} with {', '.join(r['tools'])}: "
                                                  f"{r['detail']}",
                                       "fix": "check the computer's date and time; if it is right, "
                                              "ask IT whether a proxy inspects HTTPS"})
    unreachable = sorted({r["url"] for r in rows if r["status"] == "unreachable"})
    if unreachable:
        report["notes"].append({"note": "no connection to " + ", ".join(unreachable) +
                                " (offline, firewall or proxy): downloads from there will fail",
                                "fix": "set HTTPS_PROXY if your network needs a proxy, or put the "
                                       "data in a folder and export DLCC_DATA=<folder>"})
    trusted_proxy = [r for r in rows if r["status"] == "ok" and r["tools"]]
    if not intercepted and trusted_proxy:
        report["notes"].append({"note": f"HTTPS to {len({r['url'] for r in trusted_proxy})} address(es) "
                                        "verified with every tool's CA store", "fix": "nothing to do"})
    return rows


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
    rows = report.get("network", [])
    for url in dict.fromkeys(r["url"] for r in rows):      # one line per address if tools agree
        mine = [r for r in rows if r["url"] == url]
        if len({r["status"] for r in mine}) == 1:
            detail = f"  ({mine[0]['detail']})" if mine[0]["detail"] else ""
            print(f"https       {mine[0]['status']:<12} {url}{detail}")
        else:
            for r in mine:
                print(f"https       {r['status']:<12} {url}  [{', '.join(r['tools'])}]  {r['detail']}")
    for note in report["notes"]:
        print(f"note: {note['note']}\n      fix: {note['fix']}")
    if report["problems"]:
        for p in report["problems"]:
            print(f"PROBLEM: {p['problem']}\n      fix: {p['fix']}")
    else:
        print("healthy: dlcc is ready")


def _urls(args) -> list[str]:
    if args.url:
        bad = [u for u in args.url if not u.startswith("https://")]
        if bad:
            from dlcc.errors import InputError

            raise InputError(f"--url {bad[0]!r} is not an https:// address",
                             fix="give the address to check, e.g. --url https://pypi.org/simple/")
        return list(args.url)
    offline = os.environ.get("DLCC_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")
    if args.offline or offline:
        return []
    return [*PACKAGE_INDEX, *data_source_urls()]


def run(args) -> int:
    report = collect(_urls(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_human(report)
    return 1 if report["problems"] else 0


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check Python, packages, devices and data directories")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--offline", action="store_true",
                   help="skip the HTTPS checks of the package index and data sources "
                        "(also DLCC_OFFLINE=1)")
    p.add_argument("--url", action="append", default=[], metavar="URL",
                   help="check this https:// address's certificate instead (repeatable)")
    p.set_defaults(func=run)
