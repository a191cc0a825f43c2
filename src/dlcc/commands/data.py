"""`dlcc data list | verify [NAME...] | path NAME | fetch NAME...`: datasets by name.

Thin: the work is in dlcc.data (registry, resolve, verify). `--json` prints machine-readable
output on stdout. Problems a user can fix raise DataError (exit 2, no traceback).
"""

from __future__ import annotations

import argparse
import json

from dlcc.errors import DataError


def register(sub) -> None:
    p = sub.add_parser("data", help="list, verify, locate and fetch datasets",
                       description="Datasets by name. Lookup order: --data-dir, DLCC_DATA, cache, download.")
    actions = p.add_subparsers(dest="data_command", metavar="ACTION")

    def add(name, help_text):
        a = actions.add_parser(name, help=help_text, description=help_text)
        a.add_argument("--json", action="store_true", help="print JSON for scripts")
        a.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                       help="look for datasets here first (same as `dlcc --data-dir DIR data ...`)")
        return a

    add("list", "every registered dataset, its size and where it was found").set_defaults(func=_list)
    a = add("verify", "check datasets on disk against their sha256 checksums")
    a.add_argument("names", nargs="*", metavar="NAME", help="datasets to check (default: all)")
    a.set_defaults(func=_verify)
    a = add("path", "print the folder holding a dataset")
    a.add_argument("name", metavar="NAME")
    a.set_defaults(func=_path)
    a = add("fetch", "make datasets available locally, downloading into the cache if needed")
    a.add_argument("names", nargs="+", metavar="NAME")
    a.add_argument("--variant", help="for datasets with several forms, e.g. cifar10: python | jpeg")
    a.set_defaults(func=_fetch)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n else "-"


def _status(spec, info) -> str:
    if spec.kind != "files":
        return spec.kind
    parts = []
    for name, v in info.items():
        if v["found"] == v["total"]:
            return f"found ({name}) in {', '.join(v['places'])}"
        if v["found"]:
            parts.append(f"{name}: {v['found']}/{v['total']} files")
    downloadable = any(v.url_templates for v in spec.variants)
    return "; ".join(parts) or ("not present (fetch downloads it)" if downloadable
                                else "not present (no download)")


def _list(args) -> int:
    from dlcc.data.registry import registry
    from dlcc.data.resolve import check_explicit_dir, where

    check_explicit_dir()
    rows = []
    for spec in registry().values():
        info = where(spec) if spec.kind == "files" else {}
        size = min((v.size for v in spec.variants), default=0)
        rows.append({"name": spec.name, "kind": spec.kind, "folder": spec.folder, "size": size,
                     "status": _status(spec, info), "variants": info, "shapes": spec.shapes,
                     "description": spec.description, "license": spec.license,
                     "source": spec.source, "loader": spec.loader, "aliases": list(spec.aliases)})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'NAME':16} {'KIND':9} {'SIZE':>9}  {'STATUS':44} LICENSE")
    for r in rows:
        print(f"{r['name']:16} {r['kind']:9} {_mb(r['size']):>9}  {r['status'][:44]:44} {r['license'][:40]}")
    return 0


def _verify(args) -> int:
    from dlcc.data.registry import get_dataset, names
    from dlcc.data.resolve import check_explicit_dir
    from dlcc.data.verify import verify_dataset

    check_explicit_dir()
    wanted = [get_dataset(n).name for n in args.names] or names()
    reports = [verify_dataset(n) for n in dict.fromkeys(wanted)]
    bad = [r for r in reports if r["status"] != "ok"]
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        for r in reports:
            where = r["path"] or (r["kind"] if r["kind"] != "files" else "")
            detail = f"{r['files']} file{'s' * (r['files'] != 1)} ({r['variant']})" if r["variant"] else ""
            print(f"{r['status'].upper():8} {r['name']:16} {detail:22} {where}")
    if bad:
        lines = []
        for r in bad:
            for problem in r["problems"][:3]:
                lines.append(f"  {r['name']}: {problem['error']}")
            if len(r["problems"]) > 3:
                lines.append(f"  {r['name']}: ... and {len(r['problems']) - 3} more problems")
        fixes = "; ".join(dict.fromkeys(r["fix"] for r in bad if r["fix"]))
        raise DataError(f"{len(bad)} of {len(reports)} datasets failed verification "
                        f"({', '.join(r['name'] for r in bad)}):\n" + "\n".join(lines), fix=fixes)
    return 0


def _path(args) -> int:
    from dlcc.data.resolve import ensure

    resolved = ensure(args.name, allow_download=False, verify=False)
    if args.json:
        print(json.dumps({"name": resolved.dataset.name, "variant": resolved.variant.name,
                          "path": str(resolved.root),
                          "files": {k: str(v) for k, v in resolved.paths.items()}}, indent=2))
    else:
        print(resolved.root)
    return 0


def _fetch(args) -> int:
    from dlcc.data.registry import get_dataset
    from dlcc.data.resolve import ensure

    results = []
    for name in args.names:
        spec = get_dataset(name)
        if spec.kind != "files":
            results.append({"name": spec.name, "status": spec.kind, "path": None, "downloaded": []})
            continue
        resolved = ensure(spec.name, variant=args.variant)
        results.append({"name": spec.name, "status": "ok", "variant": resolved.variant.name,
                        "path": str(resolved.root), "downloaded": resolved.downloaded})
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        if r["status"] != "ok":
            print(f"{r['name']}: {r['status']}, nothing to fetch")
        elif r["downloaded"]:
            print(f"{r['name']}: downloaded {len(r['downloaded'])} files into {r['path']}")
        else:
            print(f"{r['name']}: already available, verified, in {r['path']}")
    return 0
