"""`dlcc serve`: a trained model behind an HTTP API (FastAPI, run by uvicorn).

    from dlcc.serve import create_app
    app = create_app("runs/cifar10-fast-20261204")          # a FastAPI application
    # GET /health, GET /model, POST /predict (multipart files or JSON), GET /docs, /openapi.json

`POST /predict` takes what `dlcc predict` takes, sent over HTTP: image files (classifiers,
U-Nets), ECG recordings (.npy, .csv, a WFDB .hea + .dat pair) or a JSON array
(`{"signal": [...], "fs": 360}`) for R-peak detectors, and a JSON vector for classifiers of
vectors (`{"vector": [...]}`). Answers are JSON; every refused request is a 4xx JSON error
`{"error": ..., "fix": ...}` naming the problem (see `errors.py`). docs/serve.md has the details.
"""

from dlcc.serve.api import create_app, open_served_model
from dlcc.serve.service import SERVED_TASKS

__all__ = ["SERVED_TASKS", "create_app", "open_served_model"]
