"""Inputs for analysing a finished run (`dlcc attack`, `dlcc explain`): its test split, or the
user's image files, as the model's *pixels* (values in [0, 1], before the run's normalisation,
which `dlcc.models.pixels.pixel_model` puts in front of the network).

Image files are checked against what the run's model takes: a different size is resized with
a notice, an alpha channel dropped with a notice, a grey image for a colour model (or the
reverse) is an `InputError` naming the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from dlcc.errors import ConfigError, DataError, InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


@dataclass
class ImageSpec:
    channels: int
    size: tuple[int, int] | None      # (H, W) the model needs; None: any
    per_image_max: bool = False       # scale by each image's maximum (else by 255)


@dataclass
class Samples:
    x: Tensor                          # [N, C, H, W] pixels in [0, 1], or [N, L] signal values
    y: Tensor                          # [N] labels
    classes: list[str]
    bounds: tuple[float, float] | None  # the valid value range ((0, 1) for images)
    source: str


def image_spec(run, task: str) -> ImageSpec:
    """What images the run's model takes (channels, size, scaling)."""
    pre = run.artifacts.get("input") or {}
    if task == "segmentation":
        normalize = getattr(getattr(run.config, "data", None), "normalize", None)
        per_max = normalize == "max" if normalize else run.recipe.name == "nuclei-unet"
        return ImageSpec(int(pre.get("channels", 1)), None, per_max)
    shape = pre.get("shape") or []
    if len(shape) != 3:
        raise InputError(f"run {run.path} ({run.recipe.name}) takes input of shape {list(shape)}, not images",
                         fix="use a run of an image classifier or a U-Net")
    return ImageSpec(int(shape[0]), (int(shape[1]), int(shape[2])))


def read_image(path: str | Path, spec: ImageSpec, log: Callable[[str], None] = print) -> Tensor:
    """One image file → `[C, H, W]` float pixels in [0, 1] as `spec` says (see the module docstring)."""
    from PIL import Image

    from dlcc.data.images import decode_image

    path = Path(path)
    if not path.is_file():
        raise InputError(f"image {path} does not exist" if not path.exists() else f"{path} is not a file",
                         fix="give the path of a png or jpg image")
    array = decode_image(path, str(path))
    if array.ndim == 3 and array.shape[2] == 4:
        log(f"notice: {path.name} has an alpha channel; it is dropped")
        array = array[..., :3]
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    found = 1 if array.ndim == 2 else array.shape[2]
    if found != spec.channels:
        kinds = {1: "grey", 3: "colour (RGB)"}
        mode = "L" if spec.channels == 1 else "RGB"
        raise InputError(f"{path} is a {kinds.get(found, f'{found}-channel')} image but the model takes "
                         f"{kinds.get(spec.channels, f'{spec.channels}-channel')} images",
                         fix=f"convert it first, e.g. PIL.Image.open(path).convert('{mode}')")
    if spec.size and array.shape[:2] != spec.size:
        h, w = spec.size
        log(f"notice: {path.name} is {array.shape[0]}x{array.shape[1]}; resized to the model's {h}x{w}")
        array = np.asarray(Image.fromarray(array).resize((w, h), Image.BILINEAR))
    x = torch.from_numpy(np.array(array, dtype=np.float32))
    x = x[None] if x.ndim == 2 else x.permute(2, 0, 1)
    top = float(x.max()) if spec.per_image_max else 255.0
    return x / (top or 1.0)


def image_folder(folder: str | Path, classes: list[str], spec: ImageSpec, limit: int,
                 log: Callable[[str], None] = print) -> Samples:
    """Labelled images from `folder/<class name>/*.png|jpg` (the run's class names)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--images {folder} is not a folder",
                         fix="give a folder with one subfolder per class, named as the run's classes")
    unknown = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in classes)
    if unknown:
        raise InputError(f"{folder} has subfolders {unknown} that are not classes of this run",
                         fix=f"name the subfolders after the run's classes: {', '.join(classes)}")
    files = [(f, c) for c, name in enumerate(classes) if (folder / name).is_dir()
             for f in sorted((folder / name).iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise InputError(f"{folder} holds no images in class subfolders ({', '.join(classes[:3])}, ...)",
                         fix="put png/jpg files into one subfolder per class")
    files = files[:limit]
    x = torch.stack([read_image(f, spec, log) for f, _ in files])
    return Samples(x, torch.tensor([c for _, c in files]), classes, (0.0, 1.0), str(folder))


def test_samples(run, limit: int, seed: int = 0) -> Samples:
    """A seeded subset of `limit` test samples of the run's dataset (CIFAR-10, MNIST, MNIST-1D)."""
    data = run.recipe.data
    classes = [str(c) for c in (run.labels or range(10))]
    if data.startswith("cifar10"):
        from dlcc.data import load_cifar10

        x, y = load_cifar10()["test"]
        x = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2)
        bounds = (0.0, 1.0)
    elif data.startswith("mnist1d"):
        from dlcc.data import load_mnist1d

        x, y = load_mnist1d()["test"]
        x, bounds = torch.from_numpy(x), None
    elif data.startswith("mnist"):
        from dlcc.data import load_mnist

        x, y = load_mnist()["test"]
        x, bounds = torch.from_numpy(x)[:, None], (0.0, 1.0)
    else:
        raise ConfigError(f"dlcc knows no labelled test split for {run.recipe.name} (data: {data})",
                          fix="give labelled images with --images DIR (one subfolder per class)")
    keep = np.sort(np.random.default_rng(seed).permutation(len(y))[:limit])
    x = x[torch.from_numpy(keep)]
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    if len(x) == 0:
        raise DataError(f"the test split of {data} is empty", fix="check the dataset with `dlcc data verify`")
    return Samples(x, torch.as_tensor(np.asarray(y)[keep]).long(), classes, bounds, f"{data} test split")
