"""Class probabilities for the user's images: `dlcc predict CLASSIFIER IMAGE|FOLDER... --out DIR`.

Each image is brought to what the model was trained on, as the run's artifacts record it
(`artifacts["input"]`): its channels (grey <-> RGB), its size (an antialiased resize, e.g. to
32 x 32 for CIFAR models), its scaling (`scale`, per-channel `mean` / `std`, or a `mean_image`;
the NumPy MLPs standardise flat pixels with one mean and std). A recipe that averaged an image
with its mirror at test time (`eval.tta`) does so here too.

Writes predictions.csv (file, predicted class, its probability, one column per class) and
contact_sheet.png (the first `SHEET` images with their predicted class).
A classifier of vectors (MNIST-1D) takes .npy or .csv files of rows instead of images.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from dlcc.errors import ConfigError, DataError
from dlcc.predict.images import as_rgb_uint8, check_header, list_images, read_pixels, to_255

BATCH = 64
SHEET = 64
VALUE_RANGE = {"digits": 1.0}         # recipes whose pixels are not 0-255 (dlcc's 8x8 digits: 0-1)


class InputSpec:
    """How one image becomes one model input, from a run's artifacts and config."""

    def __init__(self, model):
        inp = model.artifacts.get("input") or {}
        self.flip_tta = bool((model.config.get("eval") or {}).get("tta", False))
        if "features" in inp:                       # dlcc's NumPy MLPs: flat standardised pixels
            side = math.isqrt(int(inp["features"]))
            if side * side != int(inp["features"]):
                raise ConfigError(f"{model.source}: a model of {inp['features']} input features does not take "
                                  "square images", fix="predict with a model trained on images")
            self.shape = (1, side, side)
            top = next((v for k, v in VALUE_RANGE.items() if model.recipe.startswith(k)), 255.0)
            self.scale, self.flat = top / 255.0, True
            self.mean, self.std = np.float32(inp["mean"]), np.float32(inp["std"])
            self.mean_image = None
            return
        shape = list(inp.get("shape") or [])
        if len(shape) == 1:                         # a classifier of vectors (MNIST-1D)
            self.shape, self.flat, self.flip_tta = (int(shape[0]),), True, False
            return
        if len(shape) != 3:
            raise ConfigError(f"{model.source}: recipe {model.recipe!r} does not record an image input "
                              f"(artifacts input: {inp or 'none'})", fix="predict with a run of an image classifier")
        self.shape, self.flat = tuple(int(s) for s in shape), False
        self.scale = float(inp.get("scale", 1 / 255))               # times 0-255 pixel values
        c = self.shape[0]
        self.mean = np.asarray(inp.get("mean", [0.0] * c), np.float32).reshape(c, 1, 1)
        self.std = np.asarray(inp.get("std", [1.0] * c), np.float32).reshape(c, 1, 1)
        mean_image = inp.get("mean_image")
        self.mean_image = None if mean_image is None else np.asarray(_numpy(mean_image), np.float32)

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        """Decoded pixels -> one input (`[C, H, W]` float32, or flat `[C*H*W]`)."""
        import torch
        import torch.nn.functional as F

        from dlcc.data.segmentation import _convert_channels

        c, h, w = self.shape
        x = _convert_channels(to_255(arr), c).astype(np.float32)               # [H, W, C] in 0-255
        t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
        if t.shape[-2:] != (h, w):
            t = F.interpolate(t, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
        x = t[0].numpy() * self.scale
        if self.flat:
            return ((x - self.mean) / self.std).reshape(-1).astype(np.float32)
        x = x - self.mean_image if self.mean_image is not None else x
        return ((x - self.mean) / self.std).astype(np.float32)


def _numpy(x):
    return x.numpy() if hasattr(x, "numpy") else x


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _logits(model, spec: InputSpec, batch: list[np.ndarray]) -> np.ndarray:
    x = np.stack(batch)
    out = model(x).astype(np.float64)
    if spec.flip_tta and not spec.flat:
        out = 0.5 * (out + model(np.ascontiguousarray(x[..., ::-1])).astype(np.float64))
    return out


def predict_images(model, inputs: list[Path], out: Path, max_pixels: int, log=print) -> dict:
    """Class probabilities of every image (see the module docstring); returns the summary."""
    classes = model.artifacts["classes"]
    spec = InputSpec(model)
    if len(spec.shape) == 1:
        return _predict_vectors(model, spec, inputs, out, classes, log)
    files, skipped = list_images(inputs)
    for path in skipped:
        log(f"skipped {path} (not an image)")
    for path in files:
        check_header(path, max_pixels)
    rows, thumbs = [], []
    for start in range(0, len(files), BATCH):
        chunk = files[start:start + BATCH]
        pixels = [read_pixels(p) for p in chunk]
        probs = softmax(_logits(model, spec, [spec(a) for a in pixels]))
        for path, arr, p in zip(chunk, pixels, probs):
            k = int(p.argmax())
            rows.append({"file": str(path), "class": str(classes[k]), "probability": float(p[k]),
                         **{f"p_{c}": float(v) for c, v in zip(classes, p)}})
            if len(thumbs) < SHEET:
                thumbs.append((_thumbnail(arr), f"{path.name}\n{classes[k]} ({p[k]:.2f})"))
        log(f"{min(start + BATCH, len(files))}/{len(files)} images")
    _write_csv(out / "predictions.csv", rows)
    _contact_sheet(thumbs, out / "contact_sheet.png", f"{model.name}: predicted classes")
    counts = {c: sum(r["class"] == c for r in rows) for c in classes}
    return {"model": model.name, "images": len(rows), "skipped": [str(p) for p in skipped],
            "counts": {c: n for c, n in counts.items() if n}}


def _predict_vectors(model, spec: InputSpec, inputs: list[Path], out: Path, classes, log) -> dict:
    """A classifier of vectors: each row of each .npy (`[N, n]` or `[n]`) or headerless .csv is one input."""
    n, rows = spec.shape[0], []
    for path in inputs:
        if not path.is_file() or path.suffix.lower() not in (".npy", ".csv"):
            raise DataError(f"{path}: {model.name} classifies vectors of {n} numbers; give .npy or .csv files of rows",
                            fix=f"save the inputs as an array [N, {n}] with numpy.save")
        x = read_vectors(path, n, model=model.name)
        for start in range(0, len(x), BATCH):
            for i, p in enumerate(softmax(model(x[start:start + BATCH]).astype(np.float64)), start):
                k = int(p.argmax())
                rows.append({"file": f"{path}#{i}", "class": str(classes[k]), "probability": float(p[k]),
                             **{f"p_{c}": float(v) for c, v in zip(classes, p)}})
    _write_csv(out / "predictions.csv", rows)
    log(f"{len(rows)} rows classified")
    return {"model": model.name, "inputs": len(rows)}


def read_vectors(path: Path, n: int, label: str | None = None, model: str = "this model") -> np.ndarray:
    """A .npy or headerless .csv file of rows -> `[N, n]` float32 of finite values; a `DataError`
    naming the file (`label`, default its path) otherwise. Used by `dlcc predict`, the app's and
    the API's uploads alike."""
    label = str(path) if label is None else label
    try:
        x = np.load(path, allow_pickle=False) if path.suffix.lower() == ".npy" else \
            np.loadtxt(path, delimiter=",", ndmin=2)
        x = np.atleast_2d(np.asarray(x, np.float32))
    except (ValueError, OSError, EOFError, TypeError) as exc:
        raise DataError(f"{label}: cannot read the array ({str(exc).splitlines()[0][:120]})",
                        fix=f"an array [N, {n}] of numbers") from None
    if x.ndim != 2 or x.shape[1] != n or not np.isfinite(x).all():
        raise DataError(f"{label}: shape {list(x.shape)} (or non-finite values); {model} takes rows of {n}",
                        fix=f"an array [N, {n}] of finite numbers")
    return x


def _thumbnail(arr: np.ndarray, side: int = 96) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(as_rgb_uint8(arr))
    im.thumbnail((side, side))
    return np.asarray(im)


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.6f}" if isinstance(v, float) else v for k, v in row.items()})


def _contact_sheet(thumbs: list[tuple[np.ndarray, str]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(8, len(thumbs))
    rows = math.ceil(len(thumbs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.9 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (img, label) in zip(axes.ravel(), thumbs):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(label, fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
