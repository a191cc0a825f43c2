"""The FastAPI application: routes, request parsing and JSON errors.

Routes: `GET /health` (answers while predictions run), `GET /model` (what is served and what
it accepts), `POST /predict` (multipart files or a JSON body), and FastAPI's `/openapi.json`
and `/docs`. Every refusal is JSON `{"error": "...", "fix": "..."}` with a 4xx status: 400 for
input the model cannot take, 413 for a body over the limit, 415 for an unsupported content
type, 404 / 405 for unknown routes and methods; a bug is a 500 whose body names no internals.
"""

import json
import logging
from pathlib import Path

# FastAPI reads the endpoints' annotations at run time (no `from __future__ import annotations`
# here): `Request` must be a real class in this module's namespace
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from dlcc.errors import ConfigError, DataError, DlccError
from dlcc.serve.limits import BodySizeLimit
from dlcc.serve.service import SERVED_TASKS, ModelService
from dlcc.serve.uploads import MAX_FILES, Upload

log = logging.getLogger("dlcc.serve")
DEFAULT_MAX_BYTES = 20_000_000

PREDICT_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                 "description": "images, or ECG recordings (.npy, .csv, .edf, WFDB .hea + .dat)"},
        "fs": {"type": "number", "description": "sampling rate (Hz) of recordings that state none"},
        "lead": {"type": "string", "description": "lead name(s) to use, comma-separated"}}}},
    "application/json": {"schema": {"type": "object", "properties": {
        "signal": {"type": "array", "description": "ECG samples: [samples] or [samples][leads]"},
        "fs": {"type": "number", "description": "its sampling rate in Hz"},
        "leads": {"type": "array", "items": {"type": "string"}},
        "vector": {"type": "array", "description": "the input of a classifier of vectors (MNIST-1D)"}}}}}}}


def as_form_fields(fix: str | None) -> str | None:
    """A fix written for the command line (`--fs 360`) in the API's terms (form field `fs=360`):
    errors come from the readers `dlcc predict` shares."""
    if not fix:
        return fix
    return fix.replace("--fs ", "form field fs=").replace("--lead ", "form field lead=")


def open_served_model(model_ref: str | Path, shipped: bool = False):
    """The `PredictModel` to serve; a `ConfigError` for a task the API does not serve."""
    from dlcc.predict import open_model

    model = open_model(model_ref, shipped=shipped)
    if model.task not in SERVED_TASKS:
        raise ConfigError(f"{model.source}: the API serves {', '.join(SERVED_TASKS)} models, not {model.task} "
                          f"(recipe {model.recipe})", fix="generate text with `dlcc predict RUN --prompt TEXT`")
    return model


def create_app(model_ref: str | Path | None = None, *, shipped: bool = False, model=None,
               max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int | None = None):
    """The ASGI application serving one model (opened here from `model_ref`, or given as `model`),
    wrapped in the body-size limit."""
    from dlcc import __version__
    from dlcc.predict.images import MAX_PIXELS

    model = model if model is not None else open_served_model(model_ref, shipped)
    service = ModelService(model, max_pixels or MAX_PIXELS)
    app = FastAPI(title=f"dlcc: {model.name}", version=__version__,
                  description=f"Predictions of {model.recipe} ({model.task}). POST /predict accepts: {service.accepts()}")

    @app.exception_handler(DlccError)
    async def _input_error(request, exc: DlccError):
        return JSONResponse({"error": exc.message, "fix": as_form_fields(exc.fix)}, status_code=400)

    @app.exception_handler(HTTPException)
    async def _http_error(request, exc: HTTPException):
        fixes = {404: "see GET /docs for the routes", 405: "see GET /docs for each route's method"}
        return JSONResponse({"error": str(exc.detail), "fix": fixes.get(exc.status_code)},
                            status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc: RequestValidationError):
        return JSONResponse({"error": f"invalid request: {exc.errors()[:3]}", "fix": "see GET /docs"}, status_code=422)

    @app.exception_handler(Exception)
    async def _bug(request, exc: Exception):
        log.exception("prediction failed")            # the traceback goes to the server's log only
        return JSONResponse({"error": f"the server failed on this request ({type(exc).__name__})",
                             "fix": "report it with the input that caused it"}, status_code=500)

    @app.get("/health")
    async def health() -> dict:
        """Liveness: answers at once, also while predictions run."""
        return {"status": "ok", "model": model.name, "task": model.task}

    @app.get("/model")
    async def describe() -> dict:
        """The served model: recipe, task, classes, test metrics and what /predict accepts."""
        return service.describe()

    @app.post("/predict", openapi_extra=PREDICT_BODY)
    async def predict(request: Request):
        """Predictions for uploaded files (multipart field 'file', repeatable) or a JSON body."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            uploads, fields = await _read_form(request)
            return await run_in_threadpool(service.predict_files, uploads, fields)
        if ctype == "application/json":
            try:
                payload = json.loads(await request.body())
            except (ValueError, UnicodeDecodeError):
                raise DataError("the request body is not valid JSON", fix=service.accepts()) from None
            return await run_in_threadpool(service.predict_json, payload)
        return JSONResponse({"error": f"unsupported content type {ctype or '(none)'!r}",
                             "fix": "send multipart/form-data (files) or application/json"}, status_code=415)

    return BodySizeLimit(app, max_bytes)


async def _read_form(request) -> tuple[list[Upload], dict[str, str]]:
    """(uploaded files, text fields) of a multipart body; malformed bodies are a `DataError`."""
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=16)
    except Exception as exc:   # python-multipart and Starlette raise several types for broken bodies
        raise DataError(f"the multipart body could not be read ({str(getattr(exc, 'detail', exc))[:120]})",
                        fix="send files as multipart/form-data field 'file'") from None
    uploads, fields = [], {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key != "file":
                raise DataError(f"unexpected file field {key!r}", fix="send files as form field 'file'")
            uploads.append(Upload(value.filename or "", await value.read()))
        elif key in ("fs", "lead"):
            fields[key] = str(value)
        else:
            raise DataError(f"unexpected form field {key!r}", fix="the fields are 'file', 'fs' and 'lead'")
    return uploads, fields
