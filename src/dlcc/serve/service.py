"""The model behind the API: one `PredictModel`, opened once, used by one request at a time.

Requests are decoded in parallel (worker threads), but the forward pass holds a lock: models
are not all safe to call from several threads (the NumPy engine's layers keep their last
input), and on a small machine one forward pass at a time with all cores is as fast as several
fighting over them. The lock is never held while a request is read, so `/health` and the
reading of other requests go on while a model computes.
"""

from __future__ import annotations

import base64
import io
import threading

import numpy as np

from dlcc.errors import DataError
from dlcc.predict.arrays import (
    check_signal,
    classify_pixels,
    detect_signal,
    segment_pixels,
    summarise_peaks,
)
from dlcc.serve.uploads import Upload, read_image_upload, recording_paths, saved

SERVED_TASKS = ("classification", "segmentation", "ecg-rpeak")


class ModelService:
    """Predictions of one opened model for decoded requests (see `api.py` for the HTTP side)."""

    def __init__(self, model, max_pixels: int):
        self.model, self.max_pixels = model, int(max_pixels)
        self.lock = threading.Lock()
        self.vector_input = self._takes_vectors()

    def _takes_vectors(self) -> bool:
        shape = (self.model.artifacts.get("input") or {}).get("shape") or []
        return self.model.task == "classification" and len(shape) == 1

    def describe(self) -> dict:
        m = self.model
        info = {"model": m.name, "recipe": m.recipe, "task": m.task, "source": "exported" if m.exported else "run"}
        if m.artifacts.get("classes"):
            info["classes"] = [str(c) for c in m.artifacts["classes"]]
        info["accepts"] = self.accepts()
        if m.metrics:
            info["metrics"] = {k: v for k, v in m.metrics.items() if isinstance(v, (int, float, str))}
        return info

    def accepts(self) -> str:
        if self.model.task == "ecg-rpeak":
            return ("multipart 'file': .npy / .csv / .edf, or a WFDB .hea with its .dat (form field 'fs' for files "
                    "without a rate, 'lead' to choose leads); or JSON {\"signal\": [...], \"fs\": HZ}")
        if self.vector_input:
            return "JSON {\"vector\": [numbers]} or multipart 'file': .npy / .csv rows"
        return "multipart 'file': one or more images (PNG, JPEG, TIFF, BMP)"

    # ---- requests -----------------------------------------------------------------------

    def predict_files(self, uploads: list[Upload], fields: dict[str, str]) -> dict:
        """Predictions for uploaded files (see `accepts`)."""
        with saved(uploads) as paths:
            if self.model.task == "ecg-rpeak":
                return self._answer([self._recording(p, fields) for p in recording_paths(paths)])
            if self.vector_input:
                return self._answer([self._vectors_file(p) for p in paths])
            return self._answer([{"file": p.name, **self._image(read_image_upload(p, self.max_pixels))}
                                 for p in paths])

    def predict_json(self, payload) -> dict:
        """Predictions for a JSON body: `{"signal": ..., "fs": ...}` or `{"vector": [...]}`."""
        if not isinstance(payload, dict):
            raise DataError("the JSON body must be an object", fix=self.accepts())
        if self.model.task == "ecg-rpeak":
            unknown = sorted(set(payload) - {"signal", "fs", "leads"})
            if "signal" not in payload or unknown:
                what = f"unknown field(s) {', '.join(unknown)}" if unknown else "no field 'signal'"
                raise DataError(f"the JSON body has {what}", fix=self.accepts())
            leads = payload.get("leads")
            if leads is not None and (not isinstance(leads, list) or not all(isinstance(x, str) for x in leads)):
                raise DataError("'leads' must be a list of names", fix="e.g. \"leads\": [\"MLII\"]")
            signal = check_signal(payload["signal"], _number(payload.get("fs"), "fs"), leads)
            with self.lock:
                return self._answer([detect_signal(self.model, signal, float(payload["fs"]), leads)])
        if self.vector_input:
            if set(payload) != {"vector"}:
                raise DataError("the JSON body must be {\"vector\": [numbers]}", fix=self.accepts())
            try:
                x = np.asarray(payload["vector"], dtype=np.float32)
            except (TypeError, ValueError):
                raise DataError("'vector' must be a list of numbers", fix=self.accepts()) from None
            rows = x[None] if x.ndim == 1 else x
            if rows.ndim != 2:
                raise DataError(f"'vector' has shape {list(x.shape)}", fix="a list of numbers, or a list of such lists")
            with self.lock:
                return self._answer([classify_pixels(self.model, row) for row in rows])
        raise DataError(f"{self.model.name} is a {self.model.task} model: it takes image files, not JSON",
                        fix="send the image as multipart form field 'file'")

    # ---- one input ----------------------------------------------------------------------

    def _image(self, pixels: np.ndarray) -> dict:
        with self.lock:
            if self.model.task == "segmentation":
                mask, summary = segment_pixels(self.model, pixels)
            else:
                return classify_pixels(self.model, pixels)
        return {**summary, "mask_png": _png_base64(mask)}

    def _recording(self, path, fields: dict[str, str]) -> dict:
        from dlcc.data.recordings import open_recording
        from dlcc.predict.ecg import EcgOptions, detect_recording

        fs = _number(fields["fs"], "fs") if fields.get("fs") not in (None, "") else None
        leads = [x.strip() for x in (fields.get("lead") or "").split(",") if x.strip()] or None
        rec = open_recording(path, fs)
        try:
            if rec.fs is None:
                raise DataError(f"{path.name} does not state its sampling rate",
                                fix="send the rate as form field 'fs' (Hz), e.g. fs=360")
            with self.lock:
                result = detect_recording(self.model, rec, EcgOptions(leads=leads, plot=False))
            return {"file": path.name, **summarise_peaks(result)}
        finally:
            rec.close()

    def _vectors_file(self, path) -> dict:
        from dlcc.predict.classify import read_vectors

        rows = read_vectors(path, int(self.model.artifacts["input"]["shape"][0]), label=path.name,
                            model=self.model.name)
        with self.lock:
            return {"file": path.name, "rows": [classify_pixels(self.model, row) for row in rows]}

    def _answer(self, results: list[dict]) -> dict:
        return {"model": self.model.name, "task": self.model.task, "predictions": results}


def _number(value, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{name}={value!r} is not a number", fix=f"give {name} in Hz, e.g. {name}=360") from None
    if not np.isfinite(out):
        raise DataError(f"{name}={value!r} is not a finite number", fix=f"give {name} in Hz, e.g. {name}=360")
    return out


def _png_base64(mask: np.ndarray) -> str:
    """A bool mask as a base64 PNG (0/255), small enough to send inline."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255).save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")
