"""`dlcc serve RUN_DIR|MODEL_FILE [--port N] [--host ADDR]` and `dlcc serve --model ecg-rpeak`."""

from __future__ import annotations

EPILOG = """examples:
  dlcc serve runs/cifar10-fast-20261204 --port 8000
      curl -F file=@cat.png http://127.0.0.1:8000/predict
  dlcc serve --model ecg-rpeak --port 8001
      curl -H 'content-type: application/json' -d '{"signal": [...], "fs": 360}' http://127.0.0.1:8001/predict
  dlcc serve runs/isbi-unet-20261204 --max-mb 50
routes: GET /health, GET /model, POST /predict, GET /docs (see docs/serve.md)"""


def register(sub) -> None:
    import argparse

    p = sub.add_parser("serve", help="serve a trained model over HTTP (POST /predict, GET /health)",
                       description="Serve a run directory, an exported model, or a model dlcc ships as an HTTP "
                                   "API (FastAPI + uvicorn).",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_ref", nargs="?", metavar="RUN_DIR|MODEL_FILE", help="a run directory or an exported model")
    p.add_argument("--model", metavar="NAME", help="a model dlcc ships instead: ecg-rpeak")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                                                       "only; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--max-mb", type=float, default=20.0, metavar="MB", help="largest request body (default 20 MB)")
    p.add_argument("--max-pixels", type=int, metavar="N", help="refuse larger images (default 40,000,000)")
    p.add_argument("--threads", type=int, metavar="N", help="torch threads for the forward pass (default: all cores)")
    p.set_defaults(func=run)


def run(args) -> int:
    from dlcc.errors import ConfigError

    if bool(args.model) == bool(args.model_ref):
        raise ConfigError("name one model: a run directory / exported file, or --model ecg-rpeak",
                          fix="dlcc serve runs/cifar10-fast-20261204, or dlcc serve --model ecg-rpeak")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port} is not a port number", fix="choose one in 1-65535, e.g. --port 8000")
    if not 0 < args.max_mb <= 10_000:
        raise ConfigError(f"--max-mb {args.max_mb:g} is out of range", fix="e.g. --max-mb 20")
    if args.max_pixels is not None and args.max_pixels < 1:
        raise ConfigError(f"--max-pixels {args.max_pixels} must be at least 1", fix="e.g. --max-pixels 40000000")
    if args.threads is not None and args.threads < 1:
        raise ConfigError(f"--threads {args.threads} must be at least 1", fix="e.g. --threads 2")
    uvicorn = _uvicorn()
    from dlcc.serve import create_app, open_served_model

    _check_port(args.host, args.port)
    model = open_served_model(args.model or args.model_ref, shipped=bool(args.model))
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    app = create_app(model=model, max_bytes=int(args.max_mb * 1e6), max_pixels=args.max_pixels)
    print(f"serving {model.name} ({model.task}) on http://{args.host}:{args.port} - /docs for the API, Ctrl-C to stop",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def _uvicorn():
    from dlcc.errors import ConfigError

    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401  (FastAPI's form parser)
        import uvicorn
    except ImportError as exc:
        raise ConfigError(f"dlcc serve needs FastAPI and uvicorn ({exc.name} is not installed)",
                          fix="pip install 'dlcc[serve]'") from None
    return uvicorn


def _check_port(host: str, port: int) -> None:
    """Refuse a port another program holds, before the model is loaded (uvicorn would log and exit)."""
    import socket

    from dlcc.errors import ConfigError

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                          fix=f"choose a free port, e.g. --port {port + 1}, or stop the program using it") from None
