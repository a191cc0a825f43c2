"""Assignment 7: serving a model over HTTP.

You write the core of a prediction service for the digit classifier of a7_model.py (given):

    app = create_app("path/to/model")             # a FastAPI application (an ASGI app)
    uvicorn.run(app, host="127.0.0.1", port=8000)  # or: python a7_client.py serve MODEL_DIR --port 8000

    GET  /health    ->  200 {"status": "ok"}
    POST /predict   (multipart/form-data, the image in the form field "file")
                    ->  200 {"class": "7", "probability": 0.98, "probabilities": {"0": 0.001, ...}}
                    ->  4xx {"error": "what is wrong with the request"}

    curl -F file=@digit.png http://127.0.0.1:8000/predict

The model takes 28x28 grayscale images (one channel), scaled to 0..1 and normalised with the
training set's mean and std, as a float32 batch [1, 1, 28, 28]. A client may send anything: a
text file, half a PNG, a 50-megapixel image that compresses to a few kilobytes, a colour photo.
Every such request gets a 4xx answer whose JSON names the problem, and the server keeps serving.

  A7.1  read_image: bytes -> pixels, refusing what the model cannot take
  A7.2  preprocess and predict_probabilities: pixels -> batch -> class probabilities
  A7.3  create_app: the two routes, the errors as JSON, the size limit, the model's lock

The tests run your app in-process with FastAPI's TestClient (public tests) and for real under
uvicorn on 127.0.0.1, with concurrent and malformed requests (hidden tests).
"""

from __future__ import annotations

import io
import threading

import numpy as np
from a7_model import load_model

# FastAPI reads the annotations of the route functions at run time: `Request` must be a real
# class in this module's namespace (so it is imported here, not inside create_app)
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

MAX_BYTES = 1_000_000      # the largest request body the server accepts (bytes)
MAX_PIXELS = 4_000_000     # the largest image (width x height) the server decodes


class InputError(Exception):
    """A request the model cannot take. `status` is the HTTP status to answer with (4xx) and
    the message names the problem, e.g. InputError("the file is not an image", 400)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, int(status)


def read_image(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an uploaded image file.

    Args:
        data: the file's bytes (PNG, JPEG, ... anything Pillow reads).
        max_pixels: the largest width x height accepted.

    Returns:
        uint8 [H, W]: the pixels of a grayscale (Pillow mode "L") image.

    Raises InputError with status 400 and a message that contains
        "empty"         when data holds no byte,
        "not an image"  when Pillow cannot identify the format,
        "pixels"        when width x height > max_pixels (say how many it has, and the limit);
                        decided from the header, before any pixel is decoded (a small PNG
                        can hold an enormous image); Pillow
                        refuses far larger images itself when it opens them
                        (Image.DecompressionBombError): refuse those the same way,
        "truncated"     when decoding the pixels fails (a file cut short or corrupted),
        "channels"      when the image is not grayscale ("L"): say how many channels it has
                        (RGB: 3, RGBA: 4, LA: 2, ...) and that the model takes 1.
    """
    from PIL import Image, UnidentifiedImageError

    # === BEGIN SOLUTION A7.1 ===
    # HINT: Image.open only reads the header; im.load() decodes the pixels (and fails there)
    if not data:
        raise InputError("the file is empty", 400)
    try:
        im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise InputError("the file is not an image (Pillow cannot identify its format)", 400) from None
    except Image.DecompressionBombError as exc:   # Pillow's own, far higher, limit
        raise InputError(f"the image has too many pixels ({exc})", 400) from None
    width, height = im.size
    if width * height > max_pixels:
        raise InputError(f"the image has {width}x{height} = {width * height} pixels; "
                         f"at most {max_pixels} pixels are accepted", 400)
    try:
        im.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"the image is truncated or corrupted ({exc})", 400) from None
    if im.mode != "L":
        bands = len(im.getbands())
        raise InputError(f"the image has {bands} channels (mode {im.mode}); the model takes "
                         "grayscale images with 1 channel", 400)
    pixels = np.asarray(im, dtype=np.uint8)
    # === END SOLUTION ===
    return pixels


def preprocess(pixels: np.ndarray, spec: dict) -> np.ndarray:
    """The batch the network expects, made from decoded pixels.

    Args:
        pixels: uint8 [H, W] (any size).
        spec: the model's input spec, {"size": S, "channels": 1, "mean": m, "std": s}.

    Returns:
        float32 [1, 1, S, S]: the image resized to S x S when it is not that size already
        (Pillow: Image.fromarray(pixels).resize((S, S), Image.BILINEAR)), then divided by 255
        and normalised: (x / 255 - m) / s.
    """
    from PIL import Image

    # === BEGIN SOLUTION A7.2 ===
    size = int(spec["size"])
    if pixels.shape != (size, size):
        pixels = np.asarray(Image.fromarray(pixels).resize((size, size), Image.BILINEAR))
    x = (pixels.astype(np.float32) / 255.0 - spec["mean"]) / spec["std"]
    batch = x.astype(np.float32).reshape(1, 1, size, size)
    # === END SOLUTION ===
    return batch


def predict_probabilities(model, batch: np.ndarray) -> np.ndarray:
    """Class probabilities of one preprocessed image.

    Args:
        model: the network (float32 tensor [1, 1, S, S] -> logits [1, K]), in eval mode.
        batch: float32 [1, 1, S, S], as `preprocess` makes it.

    Returns:
        float64 [K]: the softmax of the logits (non-negative, summing to 1). The forward pass
        runs under torch.no_grad(): a server never needs gradients, and recording the graph
        costs memory and time on every request.
    """
    import torch

    # === BEGIN SOLUTION A7.2 ===
    with torch.no_grad():
        logits = model(torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)))
    probs = torch.softmax(logits.double(), dim=1)[0].numpy()
    # === END SOLUTION ===
    return probs


def create_app(model_dir, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> FastAPI:
    """The FastAPI application serving the model in `model_dir` (see a7_model.load_model).

    Routes:
        GET /health    200 {"status": "ok"}, at once, also while predictions are running.
        POST /predict  multipart/form-data with the image in the form field "file"; answers
                       200 {"class": name of the most probable class,
                            "probability": its probability,
                            "probabilities": {class name: probability, for every class}}.

    Errors: every refused request is answered with JSON {"error": "<message>"} and a 4xx status:
        413  the request's Content-Length is over max_bytes (refuse it before reading the
             body), or the uploaded file is larger than max_bytes;
        400  no form field "file" (or a body that is not a multipart form): say that the
             image goes in the form field 'file'; and every InputError of read_image (its
             status and message).

    Concurrency: uvicorn runs the app on one event loop thread. Reading the request is async;
    decoding, preprocessing and the forward pass are blocking work, so run them in a worker
    thread (fastapi.concurrency.run_in_threadpool, or a plain `def` route), never on the event
    loop (/health would wait behind every prediction). Let one forward pass run at a time:
    take `lock` around the call of predict_probabilities, and only around it.
    """
    served = load_model(model_dir)
    lock = threading.Lock()
    app = FastAPI(title="A7: digit classifier")

    # === BEGIN SOLUTION A7.3 ===
    # HINT: @app.exception_handler(InputError) turns a raised InputError into a JSONResponse
    @app.exception_handler(InputError)
    async def _refused(request, exc: InputError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    def answer(data: bytes) -> dict:
        batch = preprocess(read_image(data, max_pixels), served.input)
        with lock:
            probs = predict_probabilities(served.model, batch)
        best = int(np.argmax(probs))
        return {"class": served.classes[best], "probability": float(probs[best]),
                "probabilities": {name: float(p) for name, p in zip(served.classes, probs)}}

    @app.post("/predict")
    async def predict(request: Request):
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise InputError(f"the request body has {length} bytes; the limit is {max_bytes} bytes", 413)
        try:
            form = await request.form()
        except Exception:   # noqa: BLE001 - python-multipart and Starlette raise several types for broken bodies
            raise InputError("the body is not a multipart form; send the image in the form field 'file'") from None
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InputError("no file in the form field 'file'")
        data = await upload.read()
        if len(data) > max_bytes:
            raise InputError(f"the file has {len(data)} bytes; the limit is {max_bytes} bytes", 413)
        return await run_in_threadpool(answer, data)
    # === END SOLUTION ===
    return app
