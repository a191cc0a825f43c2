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

    # TODO (A7.1): your code here
    # HINT: Image.open only reads the header; im.load() decodes the pixels (and fails there)
    raise NotImplementedError("A7.1: this part of read_image() is not implemented yet")
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

    # TODO (A7.2): your code here
    raise NotImplementedError("A7.2: this part of preprocess() is not implemented yet")
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

    # TODO (A7.2): your code here
    raise NotImplementedError("A7.2: this part of predict_probabilities() is not implemented yet")
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

    # TODO (A7.3): your code here
    # HINT: @app.exception_handler(InputError) turns a raised InputError into a JSONResponse
    raise NotImplementedError("A7.3: this part of create_app() is not implemented yet")
    return app
