"""`dlcc app [--runs DIR] [--port N] [--address HOST]`: the web app (Streamlit) in a browser."""

from __future__ import annotations

EPILOG = """examples:
  dlcc app --runs runs/                      then open http://127.0.0.1:8501
  dlcc app --runs runs/ --port 8600 --max-upload-mb 200
  dlcc app                                   (the shipped ECG model and live training need no runs)
see docs/app.md"""


def register(sub) -> None:
    import argparse

    from dlcc.app.uploads import MAX_UPLOAD_MB

    p = sub.add_parser("app", help="the web app: predict with runs and exports in a browser, train live",
                       description="Start the Streamlit web app: classify images (with saliency), segment "
                                   "microscopy, find R peaks in ECG recordings, train a small model live.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", metavar="DIR", help="folder of run directories and exported models "
                                                 "(default: ./runs when it exists)")
    p.add_argument("--port", type=int, default=8501, metavar="N", help="port to listen on (default 8501)")
    p.add_argument("--address", default="127.0.0.1", metavar="HOST",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the network)")
    p.add_argument("--max-upload-mb", type=int, default=MAX_UPLOAD_MB, metavar="MB",
                   help=f"largest file an upload may be (default {MAX_UPLOAD_MB})")
    p.set_defaults(func=run)


def streamlit_command(address: str, port: int, max_upload_mb: int) -> list[str]:
    """The `python -m streamlit run` command line of the app (headless, no usage statistics)."""
    import sys
    from pathlib import Path

    import dlcc.app

    script = Path(dlcc.app.__file__).with_name("streamlit_app.py")
    return [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
            "--server.address", address, "--server.port", str(port), "--server.maxUploadSize", str(max_upload_mb),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--global.developmentMode", "false", "--client.toolbarMode", "minimal"]


def _check(args):
    import importlib.util
    import socket
    from pathlib import Path

    from dlcc.app.sources import check_runs_dir
    from dlcc.errors import ConfigError, DlccError

    if importlib.util.find_spec("streamlit") is None:
        raise DlccError("dlcc app needs Streamlit, which is not installed", fix="pip install 'dlcc[app]'")
    runs = check_runs_dir(args.runs) if args.runs else (Path("runs") if Path("runs").is_dir() else None)
    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is not a port number", fix="use a port in 1..65535, e.g. --port 8501")
    if not 1 <= args.max_upload_mb <= 10_000:
        raise ConfigError(f"--max-upload-mb {args.max_upload_mb} is outside 1..10000", fix="e.g. --max-upload-mb 200")
    try:
        with socket.socket(socket.AF_INET6 if ":" in args.address else socket.AF_INET) as probe:
            probe.bind((args.address, args.port))
    except socket.gaierror:
        raise ConfigError(f"--address {args.address} is not an address of this machine",
                          fix="use 127.0.0.1 (this machine only) or 0.0.0.0 (all interfaces)") from None
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.address}:{args.port} ({exc.strerror or exc})",
                          fix=f"choose another port, e.g. --port {args.port + 1}") from None
    return runs


def run(args) -> int:
    import os
    import sys

    runs = _check(args)
    env = dict(os.environ, DLCC_APP_RUNS=str(runs.resolve()) if runs else "",
               DLCC_APP_MAX_UPLOAD_MB=str(args.max_upload_mb))
    print(f"dlcc app: http://{args.address}:{args.port}  (runs: {runs or 'none'}; Ctrl-C stops it)", flush=True)
    sys.stderr.flush()
    # The server replaces this process (no parent left behind): Ctrl-C, SIGTERM from a service
    # manager or a test's terminate() reach Streamlit itself, and its exit status is ours.
    command = streamlit_command(args.address, args.port, args.max_upload_mb)
    os.execve(command[0], command, env)
    return 0   # not reached
