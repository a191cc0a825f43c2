"""The `dlcc` command: parse, call, print. One sub-command group per layer.

Each group lives in `dlcc.commands.<group>` and exposes `register(subparsers)`, which adds its
parser and sets `func(args) -> int` as the default. Groups are imported lazily per call, so
`dlcc data list` never pays for importing the training stack.

Errors: a `DlccError` (bad input the user can fix) prints one short message and exits 2.
`--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# With more runnable threads than cores (a busy laptop, a shared node), OpenMP threads that
# spin while waiting made torch 10-30x slower here; passive waiting costs nothing when idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from dlcc import __version__
from dlcc.errors import DlccError

# group name -> module under dlcc.commands; order is the order in `dlcc --help`.
GROUPS = {
    "doctor": "doctor",
    "data": "data",
    "run": "run",
    "models": "models",
    "sweep": "sweep",
    "slurm": "slurm",
    "course": "course",
    "lecture": "lecture",
    "attack": "attack",
    "explain": "explain",
    "export": "export",
    "predict": "predict",
    "pipeline": "pipeline",
    "app": "app",
    "serve": "serve",
}


def build_parser(groups: dict[str, str] = GROUPS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlcc",
        description="The Deep Learning Crash Course as software.",
    )
    parser.add_argument("--version", action="version", version=f"dlcc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="look for datasets here first (before DLCC_DATA and the cache)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in groups.values():
        module = importlib.import_module(f"dlcc.commands.{module_name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.data_dir:
            os.environ["DLCC_DATA_DIR"] = args.data_dir
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        code = args.func(args)
        return int(code or 0)
    except DlccError as exc:
        if os.environ.get("DLCC_ERROR_FILE"):   # a worker of `dlcc run --nproc`: the launcher reports it
            from dlcc.recipes.launch import record_worker_error

            if record_worker_error(exc) and not debug:
                return exc.exit_code
        if debug:
            raise
        print(f"dlcc: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dlcc: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
