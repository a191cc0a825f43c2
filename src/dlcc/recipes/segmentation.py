"""U-Net recipes: `isbi-unet`, `nuclei-unet`, `unet-folder` (course A3 part d, on real microscopy).

- `isbi-unet`: the ISBI 2012 EM stack (30 labelled 512×512 slices; the course's Carvana data
  cannot be redistributed). Foreground = cell interior (label 1), background = membrane.
  Slices 25-29 are held out for testing and 23-24 for validation - contiguous blocks, because
  neighbouring slices look alike - and the U-Net trains on random 256×256 patches of 0-22.
  `test_dice` is the mean Dice of the cell-interior class over the 5 test slices.
- `nuclei-unet`: the 2018 Data Science Bowl nuclei (83 images of 256×256 to 1040×1388 pixels,
  fluorescence and brightfield), foreground = any nucleus; a seeded split by image.
- `unet-folder`: your own data - `dlcc run unet-folder --set data.images=DIR data.masks=DIR`.
  Images (png, tif, jpg; 8 or 16 bit; grey, RGB or RGBA) are matched to masks by file name
  (`--set data.mask_suffix=_mask` for cell01.png + cell01_mask.png), split into train / val /
  test by a seeded shuffle, and checked before training: a missing mask, a size mismatch, a
  folder mixing grey and colour, an undecodable or empty folder each stop with a message that
  names the file and the fix (exit code 2).

Training, metrics and figures: `dlcc.recipes._segment` (BCE + soft Dice loss, Adam with
a one-cycle schedule, random flips / rotations / crops, whole-image validation, tiled test
prediction). `--set model.name=unet-course` trains the course's U-Net instead of the
configurable one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlcc.config import section, setting
from dlcc.errors import ConfigError, DataError
from dlcc.recipes._segment import SEG_TRAIN, Patches, SegConfig, build_unet, train_segmentation
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import TrainConfig

@dataclass
class IsbiData(Patches):
    test_slices: list[int] = setting([25, 26, 27, 28, 29], "slices held out for testing", ge=0)
    val_slices: list[int] = setting([23, 24], "slices held out for validation", ge=0)


@dataclass
class NucleiData(Patches):
    test_size: float = setting(12, "test images: a count, or a fraction when below 1", ge=0)
    val_size: float = setting(8, "validation images: a count, or a fraction when below 1", ge=0)


@dataclass
class FolderData(Patches):
    images: str | None = setting(None, "folder of images (png, tif, jpg)")
    masks: str | None = setting(None, "folder of masks, matched to images by file name")
    mask_suffix: str = setting("", "mask name = image stem + this suffix (e.g. _mask)")
    channels: Literal[1, 3] | None = setting(None, "1 (grey) or 3 (colour); null: as the files are")
    normalize: Literal["max", "dtype", "none"] = setting("max", "max: divide each image by its maximum; dtype: "
                                                                 "by its type's range; none")
    mask_threshold: float | None = setting(None, "foreground = mask value above this (null: any non-zero)")
    test_size: float = setting(0.2, "test pairs: a count, or a fraction when below 1", ge=0)
    val_size: float = setting(0.1, "validation pairs: a count, or a fraction when below 1", ge=0)


@dataclass
class IsbiConfig(SegConfig):
    data: IsbiData = section(IsbiData, patch=256, patches_per_epoch=184)


@dataclass
class NucleiConfig(SegConfig):
    data: NucleiData = section(NucleiData, patch=128, patches_per_epoch=252)
    train: TrainConfig = section(TrainConfig, **{**SEG_TRAIN, "epochs": 15})


@dataclass
class FolderConfig(SegConfig):
    data: FolderData = section(FolderData, patch=256, patches_per_epoch=200)


def _as_pair(image: np.ndarray, mask: np.ndarray, per_image_max: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 `[H, W]` or `[H, W, 3]` image and 0/1 `[H, W]` mask → float32 `[C, H, W]`, `[1, H, W]`."""
    img = torch.from_numpy(np.ascontiguousarray(image)).float()
    img = img[None] if img.ndim == 2 else img.permute(2, 0, 1).contiguous()
    top = float(img.max()) if per_image_max else 255.0
    img = img / top if top > 0 else img
    return img, torch.from_numpy((np.asarray(mask) > 0).astype(np.float32))[None]


def _check_disjoint(split: dict[str, list[int]], n: int) -> None:
    for name, idx in split.items():
        bad = [i for i in idx if not 0 <= int(i) < n]
        if bad:
            raise ConfigError(f"data.{name}_slices has slice numbers outside 0..{n - 1}: {bad}",
                              fix=f"use slice numbers from 0 to {n - 1}")
    if set(split["test"]) & set(split["val"]):
        raise ConfigError(f"slices {sorted(set(split['test']) & set(split['val']))} are in both data.test_slices "
                          "and data.val_slices", fix="list each slice in one split only")


# ------------------------------------------------------------------------------------- ISBI
def run_isbi(cfg, ctx: RunContext) -> dict:
    from dlcc.data import load_isbi2012

    data = load_isbi2012()
    images, labels = data["train_images"], data["train_labels"]
    n = len(images)
    test, val = list(cfg.data.test_slices), list(cfg.data.val_slices)
    _check_disjoint({"test": test, "val": val}, n)
    train = [i for i in range(n) if i not in set(test) | set(val)]
    if not train or not test:
        raise ConfigError("the slice lists leave no training or no test slices",
                          fix="hold out fewer slices, e.g. --set data.test_slices=[25,26,27,28,29]")
    pairs = [_as_pair(images[i], labels[i], per_image_max=False) for i in range(n)]
    splits = {"train": [pairs[i] for i in train], "val": [pairs[i] for i in val], "test": [pairs[i] for i in test]}
    names = {"train": [f"slice{i}" for i in train], "val": [f"slice{i}" for i in val],
             "test": [f"slice{i}" for i in test]}
    return train_segmentation(cfg, ctx, splits, names, "isbi-unet")


# ----------------------------------------------------------------------------------- nuclei
def _split_counts(n: int, test: float, val: float) -> tuple[int, int]:
    """Numbers of test and validation items out of n (counts, or fractions when < 1)."""
    n_test = int(round(test * n)) if test < 1 else int(test)
    n_val = int(round(val * n)) if val < 1 else int(val)
    return n_test, n_val


def run_nuclei(cfg, ctx: RunContext) -> dict:
    from dlcc.data import load_nuclei

    items = load_nuclei()
    d = cfg.data
    n_test, n_val = _split_counts(len(items), d.test_size, d.val_size)
    if n_test < 1 or n_val < 0 or n_test + n_val >= len(items):
        raise ConfigError(f"data.test_size={d.test_size:g} and data.val_size={d.val_size:g} leave no training "
                          f"images out of {len(items)}", fix="e.g. --set data.test_size=12 data.val_size=8")
    order = np.random.default_rng(cfg.seed).permutation(len(items))
    parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    splits = {k: [_as_pair(items[i]["image"], items[i]["mask"], per_image_max=True) for i in v]
              for k, v in parts.items()}
    names = {k: [items[i]["id"][:12] for i in v] for k, v in parts.items()}
    return train_segmentation(cfg, ctx, splits, names, "nuclei-unet")


# ----------------------------------------------------------------------------------- folder
def run_folder(cfg, ctx: RunContext) -> dict:
    from dlcc.data.segmentation import SegmentationFolder

    d = cfg.data
    if not d.images or not d.masks:
        raise ConfigError("unet-folder needs a folder of images and a folder of masks (data.images, data.masks)",
                          fix="dlcc run unet-folder --set data.images=path/to/images data.masks=path/to/masks")
    ds = SegmentationFolder(d.images, d.masks, channels=d.channels, mask_suffix=d.mask_suffix,
                            normalize=d.normalize, mask_threshold=d.mask_threshold)
    for path in ds.skipped:
        ctx.log(f"unet-folder: skipped {path} (not a png/tif/jpg image)")
    n = len(ds)
    if n < 2:
        raise DataError(f"{d.images} has {n} image/mask pair; unet-folder needs at least 2 (one to train on, "
                        "one to test on)", fix="add more image/mask pairs to the folders")
    n_test, n_val = _split_counts(n, d.test_size, d.val_size)
    n_test = max(1, n_test)
    n_val = min(n_val, n - n_test - 1) if n >= 3 else 0
    if n_test >= n:
        raise ConfigError(f"data.test_size={d.test_size:g} leaves no training pairs out of {n}",
                          fix="--set data.test_size=0.2")
    order = np.random.default_rng(cfg.seed).permutation(n)
    parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    splits = {k: [ds[int(i)] for i in v] for k, v in parts.items()}
    names = {k: [ds.pairs[int(i)][0].name for i in v] for k, v in parts.items()}
    if all(float(m.max()) == 0 for _, m in splits["train"]):
        raise DataError(f"every training mask in {d.masks} is empty (no foreground pixel)",
                        fix="check that masks mark the foreground with non-zero values "
                            "(or lower --set data.mask_threshold=...)")
    metrics = train_segmentation(cfg, ctx, splits, names, "unet-folder")
    metrics["pairs"] = {k: names[k] for k in ("train", "val", "test")}
    return metrics


def build_model(cfg, artifacts: dict | None = None):
    """The U-Net of `cfg.model`; the input channels come from the run's artifacts (default 1)."""
    channels = int(((artifacts or {}).get("input") or {}).get("channels", 1))
    return build_unet(cfg.model, channels)


RECIPES = [
    Recipe("isbi-unet", "A3(d): U-Net, BCE+Dice, on ISBI 2012 EM slices; Dice of cell interior on 5 held-out slices",
           "isbi2012-em", IsbiConfig, run_isbi, build_model,
           tags=("A3", "vision", "segmentation"), task="segmentation"),
    Recipe("nuclei-unet", "U-Net, BCE+Dice, on DSB2018 nuclei (binary foreground), seeded split by image",
           "dsb2018-nuclei", NucleiConfig, run_nuclei, build_model,
           tags=("vision", "segmentation"), task="segmentation"),
    Recipe("unet-folder", "U-Net on your own image/mask folders (--set data.images=DIR data.masks=DIR)",
           "your folders", FolderConfig, run_folder, build_model,
           tags=("vision", "segmentation"), task="segmentation"),
]
