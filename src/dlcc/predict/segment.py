"""Masks for the user's images: `dlcc predict UNET_RUN IMAGE|FOLDER... --out DIR [--masks DIR]`.

Images of any size are normalised as the recipe normalised its training images (isbi-unet:
divided by the type's range; nuclei-unet: by each image's maximum; unet-folder: as its
`data.normalize` and `data.channels` say), then predicted in overlapping tiles of the run's
`eval.tile` pixels, stitched, and thresholded at the run's threshold - exactly the recipe's test
prediction (`dlcc.recipes._segment.predict_probs`, with its `eval.tta`).

Writes `<image>_mask.png` (0/255) and `<image>_overlay.png` (the image with the mask in red and
its outline), and with `--masks DIR` (masks matched by file name, `--mask-suffix` for
cell01_mask.png) metrics.csv with Dice and IoU per image and their means in summary.json.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from dlcc.errors import DataError
from dlcc.predict.images import SUFFIXES, as_rgb_uint8, check_header, list_images, read_pixels


class _Exported(torch.nn.Module):
    """An exported model (numpy in, numpy out) behind the nn.Module interface the tiling code uses."""

    def __init__(self, exported):
        super().__init__()
        self.exported = exported

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(self.exported(x.detach().cpu().numpy())))


def normalisation(model) -> tuple[str, int]:
    """(how pixels are scaled: "max" | "dtype" | "none", input channels) as in training."""
    data = model.config.get("data") or {}
    channels = int((model.artifacts.get("input") or {}).get("channels") or data.get("channels") or 1)
    if "normalize" in data:
        return str(data["normalize"]), channels
    return ("max" if model.recipe == "nuclei-unet" else "dtype"), channels


def prepare_image(arr: np.ndarray, mode: str, channels: int) -> torch.Tensor:
    """Decoded pixels -> `[C, H, W]` float32 as the segmentation recipes prepare them."""
    from dlcc.data.segmentation import _convert_channels

    img = _convert_channels(arr, channels).astype(np.float32)
    if mode == "max":
        top = float(img.max())
        img = img / top if top > 0 else img
    elif mode == "dtype" and np.issubdtype(arr.dtype, np.integer):
        img = img / float(np.iinfo(arr.dtype).max)
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def read_mask(path: Path) -> np.ndarray:
    """A reference mask file -> `[H, W]` bool (foreground: above 0, or above half the maximum for JPEG)."""
    m = read_pixels(path)
    if m.ndim == 3:
        m = m.max(axis=-1)
    threshold = float(m.max()) / 2 if path.suffix.lower() in (".jpg", ".jpeg") else 0.0
    return m > threshold


def find_mask(image: Path, masks: Path, suffix: str) -> Path | None:
    for ext in SUFFIXES:
        for candidate in (masks / f"{image.stem}{suffix}{ext}", masks / f"{image.stem}{suffix}{ext.upper()}"):
            if candidate.is_file():
                return candidate
    return None


def overlay(arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The image (RGB uint8) with the mask tinted red and its outline in yellow."""
    rgb = as_rgb_uint8(arr).astype(np.float32)
    rgb[mask] = 0.6 * rgb[mask] + 0.4 * np.array([255.0, 0.0, 0.0])
    edge = mask & ~(np.roll(mask, 1, 0) & np.roll(mask, -1, 0) & np.roll(mask, 1, 1) & np.roll(mask, -1, 1))
    rgb[edge] = [255.0, 255.0, 0.0]
    return rgb.astype(np.uint8)


def predict_masks(model, inputs: list[Path], out: Path, max_pixels: int, masks: Path | None = None,
                  mask_suffix: str = "", log=print) -> dict:
    """Masks, overlays and (with `masks`) Dice/IoU for every image; returns the summary."""
    from PIL import Image

    from dlcc.metrics import dice_per_image, iou_per_image
    from dlcc.recipes._segment import predict_probs

    if masks is not None and not masks.is_dir():
        raise DataError(f"--masks {masks}: no such folder", fix="give the folder of reference masks")
    files, skipped = list_images(inputs)
    for path in skipped:
        log(f"skipped {path} (not an image)")
    sizes = {path: check_header(path, max_pixels) for path in files}
    pairs = {path: find_mask(path, masks, mask_suffix) for path in files} if masks is not None else {}
    for path, mask_path in pairs.items():
        if mask_path is not None and check_header(mask_path, max_pixels) != sizes[path]:
            raise DataError(f"mask {mask_path} is not the size of its image {path} "
                            f"({'x'.join(map(str, sizes[path]))} pixels, H x W)",
                            fix="give each image a mask of its size")
    mode, channels = normalisation(model)
    ev = model.config.get("eval") or {}
    tile, overlap, tta = int(ev.get("tile", 512)), int(ev.get("overlap", 32)), bool(ev.get("tta", False))
    threshold = float(model.artifacts.get("threshold", ev.get("threshold", 0.5)))
    net = model.module if model.is_torch else _Exported(model.exported)
    rows = []
    for i, path in enumerate(files, 1):
        arr = read_pixels(path)
        probs = predict_probs(net, prepare_image(arr, mode, channels), tile, min(overlap, tile - 1), tta)
        mask = (probs[0] >= threshold).numpy()
        Image.fromarray((mask * 255).astype(np.uint8)).save(out / f"{path.stem}_mask.png")
        Image.fromarray(overlay(arr, mask)).save(out / f"{path.stem}_overlay.png")
        row = {"image": str(path), "foreground": round(float(mask.mean()), 6)}
        if pairs.get(path) is not None:
            truth = torch.from_numpy(read_mask(pairs[path]).astype(np.float32))[None, None]
            row.update(mask=str(pairs[path]), dice=float(dice_per_image(probs[None], truth, threshold)[0]),
                       iou=float(iou_per_image(probs[None], truth, threshold)[0]))
        rows.append(row)
        log(f"{i}/{len(files)} {path.name}: foreground {row['foreground']:.3f}" +
            (f", Dice {row['dice']:.4f}, IoU {row['iou']:.4f}" if "dice" in row else ""))
    summary = {"model": model.name, "images": len(rows), "threshold": threshold,
               "skipped": [str(p) for p in skipped]}
    if masks is not None:
        scored = [r for r in rows if "dice" in r]
        summary["without_mask"] = [r["image"] for r in rows if "dice" not in r]
        if not scored:
            raise DataError(f"--masks {masks}: no mask matches an image by name",
                            fix="name masks like their images (cell01.png), or set --mask-suffix _mask")
        summary.update(mean_dice=float(np.mean([r["dice"] for r in scored])),
                       mean_iou=float(np.mean([r["iou"] for r in scored])))
    with open(out / ("metrics.csv" if masks is not None else "images.csv"), "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["image", "foreground", "mask", "dice", "iou"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return summary
