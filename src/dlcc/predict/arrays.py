"""Predictions for data already in memory: the HTTP API (`dlcc serve`) and the web app (`dlcc app`)
call these with decoded uploads, where `dlcc predict` works on files and writes folders.

    model = open_model("runs/cifar10-fast-20261204")
    classify_pixels(model, pixels)          # {"class": "cat", "probability": 0.91, "probabilities": {...}}
    segment_pixels(model, pixels)           # ([H, W] bool mask, summary dict)
    detect_signal(model, signal, fs=360.0)  # {"peaks_s": [...], "mean_hr_bpm": 72.1, ...}

Each function prepares its input exactly as the file-based path does (`classify.InputSpec`,
`segment.prepare_image` + the recipe's tiled prediction, `ecg.detect_recording`), so an upload
and the same file given to `dlcc predict` get the same answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcc.data.recordings.base import Recording
from dlcc.errors import DataError

MAX_SIGNAL_SAMPLES = 360 * 60 * 60 * 24      # a day at MIT-BIH's rate; longer arrays belong in files
MIN_SECONDS = 2.0                            # two beats at 60 bpm: less cannot give a heart rate


def classify_pixels(model, pixels: np.ndarray) -> dict:
    """Class probabilities of one decoded image (`[H, W]` or `[H, W, C]`, any numeric type) for a
    classification model; vectors (MNIST-1D) are a 1-D array of the model's input length."""
    from dlcc.predict.classify import InputSpec, _logits, softmax

    classes = [str(c) for c in model.artifacts.get("classes") or []]
    if not classes:
        raise DataError(f"{model.name} saved no class names, so it is not a classifier",
                        fix="serve a run of a classification recipe")
    spec = InputSpec(model)
    if len(spec.shape) == 1:
        x = np.asarray(pixels, np.float32).reshape(-1)
        if x.shape[0] != spec.shape[0] or not np.isfinite(x).all():
            raise DataError(f"the input has {x.shape[0]} numbers (or non-finite ones); {model.name} takes "
                            f"{spec.shape[0]}", fix=f"send a vector of {spec.shape[0]} finite numbers")
        probs = softmax(model(x[None]).astype(np.float64))[0]
    else:
        probs = softmax(_logits(model, spec, [spec(pixels)]))[0]
    k = int(probs.argmax())
    return {"class": classes[k], "probability": float(probs[k]),
            "probabilities": {c: float(p) for c, p in zip(classes, probs)}}


def segment_pixels(model, pixels: np.ndarray) -> tuple[np.ndarray, dict]:
    """(`[H, W]` bool mask, summary) of one decoded image for a segmentation model, tiled and
    thresholded as the recipe's own test prediction."""
    from dlcc.predict.segment import _Exported, normalisation, prepare_image
    from dlcc.recipes._segment import predict_probs

    mode, channels = normalisation(model)
    ev = model.config.get("eval") or {}
    tile, overlap, tta = int(ev.get("tile", 512)), int(ev.get("overlap", 32)), bool(ev.get("tta", False))
    threshold = float(model.artifacts.get("threshold", ev.get("threshold", 0.5)))
    net = model.module if model.is_torch else _Exported(model.exported)
    probs = predict_probs(net, prepare_image(pixels, mode, channels), tile, min(overlap, tile - 1), tta)
    mask = (probs[0] >= threshold).numpy()
    return mask, {"height": int(mask.shape[0]), "width": int(mask.shape[1]), "threshold": threshold,
                  "foreground": round(float(mask.mean()), 6)}


class ArrayRecording(Recording):
    """A signal in memory (`[samples, leads]` float) behind the `Recording` interface."""

    @classmethod
    def of(cls, signal: np.ndarray, fs: float, leads: list[str] | None = None, name: str = "upload") -> ArrayRecording:
        x = np.asarray(signal, dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        names = list(leads) if leads else [f"lead{i}" for i in range(x.shape[1])]
        rec = cls(Path(name), name, names, [float(fs)] * x.shape[1], [x.shape[0]] * x.shape[1], [""] * x.shape[1])
        rec._signal = x
        return rec

    def _read(self, start: int, stop: int, channels: list[int]) -> np.ndarray:
        return self._signal[start:stop, channels]


def check_signal(signal, fs, leads: list[str] | None = None, max_samples: int = MAX_SIGNAL_SAMPLES) -> np.ndarray:
    """A signal as `[samples, leads]` float64, or a `DataError` naming what is wrong with it."""
    try:
        x = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("the signal is not an array of numbers (rows of equal length)",
                        fix="send [samples] or [samples][leads] numbers") from None
    if x.ndim == 2 and x.shape[0] <= 16 < x.shape[1]:
        x = x.T                                         # [leads, samples] as the .npy reader allows
    if x.ndim not in (1, 2) or x.size == 0:
        raise DataError(f"the signal has shape {list(x.shape)}; expected [samples] or [samples, leads]",
                        fix="send a list of numbers, or a list of rows with one number per lead")
    x = x[:, None] if x.ndim == 1 else x
    if x.shape[1] > 16:
        raise DataError(f"the signal has {x.shape[1]} columns; more than 16 leads is unlikely",
                        fix="send [samples, leads]")
    if x.shape[0] > max_samples:
        raise DataError(f"the signal has {x.shape[0]:,} samples, more than the {max_samples:,} allowed",
                        fix="send a shorter piece, or use `dlcc predict` on the file")
    if np.isinf(x).any():
        raise DataError("the signal holds infinite values", fix="send finite numbers (NaN marks a missing sample)")
    if np.isnan(x).all():
        raise DataError("every sample of the signal is missing (NaN)", fix="send the recorded values")
    try:
        rate = float(fs)
    except (TypeError, ValueError):
        rate = float("nan")
    if not 1.0 <= rate <= 100_000.0:                      # NaN fails too
        raise DataError(f"sampling rate fs={fs!r} is missing or out of range (1-100,000 Hz)",
                        fix="give fs in Hz, e.g. 360")
    if x.shape[0] < rate * MIN_SECONDS:
        raise DataError(f"the signal is {x.shape[0]} samples long, {x.shape[0] / rate:.2f} s at {rate:g} Hz; "
                        f"at least {MIN_SECONDS:g} s is needed to find heartbeats", fix="send a longer piece")
    if leads is not None and len(leads) != x.shape[1]:
        raise DataError(f"{len(leads)} lead names for a signal of {x.shape[1]} lead(s)",
                        fix="give one name per column, or leave the names out")
    return x


def detect_signal(model, signal, fs, leads: list[str] | None = None, name: str = "upload") -> dict:
    """R peaks of an ECG in memory with an ecg-rpeak model: times (s, at the recording's rate),
    RR intervals and heart rate. `signal` is `[samples]` or `[samples, leads]`."""
    from dlcc.predict.ecg import EcgOptions, detect_recording

    x = check_signal(signal, fs, leads)
    rec = ArrayRecording.of(x, float(fs), leads, name)
    result = detect_recording(model, rec, EcgOptions(plot=False))
    return summarise_peaks(result)


def summarise_peaks(result: dict) -> dict:
    """What a client wants from `ecg.detect_recording`'s result: peak times and heart rate."""
    stream, found = result["stream"], result["triggers"]
    times = np.asarray(found, np.float64) / stream.fs
    samples = np.minimum(result["n_in"] - 1, np.round(times * result["fs_in"]).astype(np.int64))
    rr = np.diff(times)
    return {"leads": list(result["leads"]), "fs_hz": float(result["fs_in"]),
            "duration_s": round(stream.length / stream.fs, 3), "beats": len(found),
            "peaks_s": [round(float(t), 4) for t in times], "peaks_sample": [int(s) for s in samples],
            "mean_hr_bpm": round(float(60.0 / rr.mean()), 1) if len(rr) else 0.0}
