"""Probes for `dlcc course mutate A7` (never released): random inputs for the functions whose
surviving mutants need the equivalence check (dlcc.course.authoring.equivalence)."""

import io

import numpy as np


def _image_bytes(rng) -> bytes:
    """A random PNG: gray, RGB or cut short, of a random size."""
    from PIL import Image

    h, w = (int(v) for v in rng.integers(1, 40, size=2))
    kind = int(rng.integers(0, 4))
    pixels = rng.integers(0, 256, (h, w, 3) if kind == 1 else (h, w)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    data = buf.getvalue()
    return data[: len(data) // 2] if kind == 2 else data


def _read(m, rng):
    data, limit = _image_bytes(rng), int(rng.integers(1, 1600))
    try:
        return {"pixels": m.read_image(data, limit)}
    except m.InputError as exc:
        return {"error": exc.message, "status": exc.status}


def _preprocess(m, rng):
    h, w = (int(v) for v in rng.integers(1, 60, size=2))
    spec = {"size": int(rng.integers(4, 32)), "channels": 1, "mean": float(rng.random()), "std": 0.1 + float(rng.random())}
    return m.preprocess(rng.integers(0, 256, (h, w)).astype(np.uint8), spec)


def _probabilities(m, rng):
    import a7_model
    import torch

    torch.manual_seed(0)
    net = a7_model.build_network().eval()
    return m.predict_probabilities(net, rng.normal(scale=3, size=(1, 1, 28, 28)).astype(np.float32))


PROBES = {"a7_api.read_image": _read, "a7_api.preprocess": _preprocess,
          "a7_api.predict_probabilities": _probabilities}
