"""Check datasets on disk against the registry, without stopping at the first bad file."""

from __future__ import annotations

import importlib

from dlcc.data.checksum import check_file
from dlcc.data.download import offline
from dlcc.data.registry import DatasetSpec, get_dataset
from dlcc.data.resolve import fix_for, locate, looked_in
from dlcc.errors import DataError


def verify_dataset(name: str, data_dir=None) -> dict:
    """Report for one dataset (JSON-able).

    Keys: name, kind, status ("ok", "missing", "partial", "corrupt", "missing-package"),
    variant (the complete variant, if any), path, files (count checked), problems (list of
    {"file", "error"}), fix (None when ok). A dataset is ok when one variant is complete and
    every file found on disk (of any variant) has an accepted sha256.
    """
    spec = get_dataset(name)
    if spec.kind != "files":
        return _verify_embedded(spec)
    report = {"name": spec.name, "kind": spec.kind, "status": "ok", "variant": None, "path": None,
              "files": 0, "problems": [], "fix": None}
    complete = []
    any_found = False
    for variant in spec.variants:
        found = locate(spec, variant, data_dir=data_dir)
        ok = True
        for f in variant.files:
            path = found[f.relpath]
            if path is None:
                ok = False
                continue
            any_found = True
            report["files"] += 1
            try:
                check_file(path, f, spec.name, fix_for(spec))
            except DataError as exc:
                ok = False
                report["problems"].append({"file": str(path), "error": exc.message})
        if ok:
            complete.append(variant)
            if report["path"] is None:
                relpath, path = next(iter(found.items()))
                report["variant"] = variant.name
                report["path"] = str(path.parents[len(relpath.split("/")) - 1])
    if report["problems"]:
        report["status"], report["fix"] = "corrupt", fix_for(spec)
    elif not complete:
        report["status"] = "partial" if any_found else "missing"
        absent = [r for r, p in locate(spec, spec.variants[0], data_dir=data_dir).items() if p is None]
        report["problems"].append({"file": None, "error": f"{len(absent)} of {len(spec.variants[0].files)} "
                                                         f"files of {spec.folder}/ not found; "
                                                         f"{looked_in(spec, absent, data_dir)}"})
        report["fix"] = (f"run `dlcc data fetch {spec.name}`" if not offline() and
                         any(v.url_templates for v in spec.variants) else
                         f"point --data-dir or DLCC_DATA at a folder that holds {spec.folder}/")
    return report


def _verify_embedded(spec: DatasetSpec) -> dict:
    report = {"name": spec.name, "kind": spec.kind, "status": "ok", "variant": None, "path": None,
              "files": 0, "problems": [], "fix": None}
    for module in spec.requires:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            package = {"sklearn": "scikit-learn"}.get(module, module)
            report["status"] = "missing-package"
            report["problems"].append({"file": None, "error": f"cannot import {module}: {exc}"})
            report["fix"] = f"pip install {package}"
    return report
