"""`dlcc pipeline init RECIPE DIR [--set k=v ...] [--preset P] [--remote FOLDER]` and
`dlcc pipeline stage prepare|train|evaluate|export [--params params.yaml]` (what dvc.yaml runs)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dlcc.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("pipeline", help="a recipe as a versioned DVC pipeline (prepare, train, evaluate, export)",
                       description="Versioned pipelines with DVC and git; see docs/pipeline.md.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    init = verbs.add_parser("init", help="write a DVC project (dvc.yaml, params.yaml) that trains RECIPE",
                            description="Write DIR/dvc.yaml and DIR/params.yaml, run `git init` (when DIR is "
                                        "in no git repository) and `dvc init`. Refuses a folder that already "
                                        "holds a DVC project.")
    init.add_argument("recipe", metavar="RECIPE", help="a recipe (`dlcc pipeline init --list` names those supported)"
                      , nargs="?")
    init.add_argument("dir", metavar="DIR", nargs="?", help="the project folder (created if missing)")
    init.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                      help="change settings in params.yaml, e.g. --set train.epochs=5 pipeline.threads=2")
    init.add_argument("--preset", metavar="NAME", help="a preset of the recipe")
    init.add_argument("--remote", metavar="FOLDER", help="a folder to use as the default DVC remote (dvc push)")
    init.add_argument("--list", action="store_true", help="list the recipes a pipeline can be made of")
    init.add_argument("--json", action="store_true", help="print the result as JSON")
    init.set_defaults(func=cmd_init)
    stage = verbs.add_parser("stage", help="run one stage in the current pipeline folder (dvc repro calls this)")
    stage.add_argument("name", choices=["prepare", "train", "evaluate", "export"], help="the stage")
    stage.add_argument("--params", default="params.yaml", metavar="FILE", help="params file (default params.yaml)")
    stage.set_defaults(func=cmd_stage)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def cmd_init(args) -> int:
    from dlcc.pipeline import init_project
    from dlcc.pipeline.datasets import supported_recipes

    if args.list:
        print("\n".join(supported_recipes()))
        return 0
    if not args.recipe or not args.dir:
        raise InputError("dlcc pipeline init needs a RECIPE and a DIR",
                         fix="dlcc pipeline init mnist1d-mlp my-pipeline  (--list names the recipes)")
    report = init_project(args.recipe, args.dir, args.set, preset=args.preset, remote=args.remote)
    if args.json:
        print(json.dumps({"path": str(report.path), "recipe": report.recipe, "git_init": report.git_initialised,
                          "git_root": str(report.git_root), "remote": report.remote}, indent=2))
        return 0
    print(f"wrote the {report.recipe} pipeline in {report.path} (dvc.yaml, params.yaml; staged in git)")
    print(f"  git: {'initialised a new repository here' if report.git_initialised else f'inside the repository at {report.git_root}'}")
    if report.remote:
        print(f"  dvc remote 'local' (default): {report.remote}")
    print("next:")
    print(f"  cd {args.dir}")
    print("  git commit -m 'pipeline'   # dvc exp needs a first commit")
    print("  dvc repro                  # prepare -> train -> evaluate -> export")
    print("  dvc metrics show; dvc exp run --set-param train.epochs=5; dvc metrics diff")
    return 0


def _export(settings) -> dict:
    """The export stage: `dlcc export model --format F --out export/model.EXT`."""
    from dlcc.commands.export import SUFFIX, cmd_export

    out = Path("export")
    out.mkdir(exist_ok=True)
    target = out / f"model{SUFFIX[settings.export_format]}"
    args = argparse.Namespace(run_dir="model", format=settings.export_format, mode=None, out=str(target),
                              force=True, json=False)
    code = cmd_export(args)
    if code != 0:
        raise InputError(f"the exported {target} does not match the PyTorch model (see above)",
                         fix="dlcc pipeline stage export after checking the export (docs/export.md)")
    return {"path": str(target)}


def cmd_stage(args) -> int:
    from dlcc.pipeline import run_stage

    summary = run_stage(args.name, args.params, export=_export)
    print(f"{args.name}: " + ", ".join(f"{k}={v}" for k, v in summary.items()), file=sys.stderr)
    return 0
