"""The image page's computation: pixels -> class probabilities and a saliency overlay.

    result = classify_image(model, pixels)       # pixels [H, W] or [H, W, 3] as decoded
    result.top, result.probability, result.probabilities   # {"cat": 0.71, ...}
    result.overlay                                # [h, w, 3] uint8: the image under its saliency map

Preprocessing is `dlcc.predict.classify.InputSpec`, the same as `dlcc predict` and the recipe's
own evaluation (channels, size, scaling, test-time flip). The saliency map explains the top
class: SmoothGrad for a PyTorch run (gradients averaged over noisy copies, less speckled than
one gradient), occlusion for an export (no gradients through onnxruntime, only forward
passes), none for a NumPy model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcc.errors import ConfigError

OVERLAY_SIDE = 256                   # the overlay's long side in pixels (maps are upsampled to it)


@dataclass
class ClassResult:
    probabilities: dict[str, float]          # class -> probability, in the model's class order
    top: str
    probability: float
    overlay: np.ndarray | None               # [h, w, 3] uint8, or None when no map could be made
    method: str | None                       # "smoothgrad" | "occlusion" | None


def image_spec(model):
    """The model's `InputSpec`; a `ConfigError` unless it is an image classifier."""
    from dlcc.predict.classify import InputSpec

    if not model.artifacts.get("classes"):
        raise ConfigError(f"{model.name}: recipe {model.recipe!r} saved no class names",
                          fix="choose a run of a classification recipe")
    return InputSpec(model)


def probabilities(model, x: np.ndarray) -> np.ndarray:
    """Preprocessed inputs `[B, ...]` -> probabilities `[B, K]` (with the run's flip TTA)."""
    from dlcc.predict.classify import _logits, softmax

    return softmax(_logits(model, image_spec(model), list(x)))


def classify_image(model, pixels: np.ndarray, saliency: bool = True) -> ClassResult:
    """Class probabilities of one decoded image, and (optionally) its saliency overlay."""
    spec = image_spec(model)
    if len(spec.shape) == 1:
        raise ConfigError(f"{model.name} classifies vectors of {spec.shape[0]} numbers, not images",
                          fix="upload a .npy or .csv file of rows for it")
    x = spec(pixels)
    p = probabilities(model, x[None])[0]
    classes = [str(c) for c in model.artifacts["classes"]]
    k = int(p.argmax())
    overlay, method = None, None
    if saliency and not spec.flat:
        method = "smoothgrad" if model.is_torch else "occlusion" if model.exported is not None else None
        if method:
            overlay = blend(pixels, saliency_map(model, x, k, method))
    return ClassResult(dict(zip(classes, map(float, p))), classes[k], float(p[k]), overlay, method)


def classify_vectors(model, x: np.ndarray) -> list[ClassResult]:
    """Rows `[N, n]` of a vector classifier (MNIST-1D) -> one result per row (no maps)."""
    p = probabilities(model, x)
    classes = [str(c) for c in model.artifacts["classes"]]
    return [ClassResult(dict(zip(classes, map(float, row))), classes[int(row.argmax())], float(row.max()), None, None)
            for row in p]


def saliency_map(model, x: np.ndarray, target: int, method: str) -> np.ndarray:
    """`x [C, H, W]` (preprocessed) -> importance `[H, W]` in [0, 1] for class `target`."""
    import torch

    from dlcc.interpret import attribute, to_map

    xt = torch.from_numpy(np.ascontiguousarray(x, np.float32))[None]
    if method == "smoothgrad":
        net = model.module
        attr = attribute("smoothgrad", net, xt, target, samples=16, noise=0.15)
    else:
        h, w = xt.shape[-2:]
        window = (max(1, h // 8), max(1, w // 8))
        attr = attribute("occlusion", _Forward(model), xt, target, window=window,
                         stride=(max(1, window[0] // 2), max(1, window[1] // 2)))
    m = to_map(method, attr)[0].detach().double().numpy()
    m = np.clip(m, 0, None)
    top = float(np.percentile(m, 99)) if m.size else 0.0
    return np.clip(m / top, 0, 1) if top > 0 else np.zeros_like(m)


class _Forward:
    """A forward-only model (an export) behind the callable-on-tensors interface occlusion uses."""

    def __init__(self, model):
        self.model = model

    def __call__(self, x):
        import torch

        return torch.from_numpy(np.asarray(self.model(x.numpy()), np.float32))


def blend(pixels: np.ndarray, importance: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    """The image (RGB, long side `OVERLAY_SIDE`) with `importance [h, w]` in [0, 1] drawn over it
    in the inferno colour map; both are resized to the same size first."""
    from matplotlib import colormaps
    from PIL import Image

    from dlcc.predict.images import as_rgb_uint8

    img = Image.fromarray(as_rgb_uint8(pixels))
    scale = OVERLAY_SIDE / max(img.size)
    size = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
    base = np.asarray(img.resize(size, Image.BILINEAR), np.float32)
    heat = Image.fromarray((importance * 255).astype(np.uint8)).resize(size, Image.BILINEAR)
    colour = colormaps["inferno"](np.asarray(heat, np.float32) / 255.0)[..., :3] * 255.0
    grey = base.mean(axis=2, keepdims=True)
    return np.clip((1 - alpha) * grey + alpha * colour, 0, 255).astype(np.uint8)
