"""The binary-segmentation pipeline shared by `isbi-unet`, `nuclei-unet` and `unet-folder`.

Input: image/mask pairs split into train / val / test, each image `[C, H, W]` float32 and
each mask `[1, H, W]` float32 in {0, 1}; sizes may differ from pair to pair.

Training sees random patches: each epoch draws `data.patches_per_epoch` patches of
`data.patch`×`data.patch` pixels, cycling through the training images, each with a random
flip / 90° rotation (the 8 symmetries of a square: microscopy has no preferred orientation)
and a random crop (images smaller than a patch are reflect-padded, their masks zero-padded).
Validation (every epoch) and the final test run on whole images, cut into `eval.tile` tiles
when larger; the test prediction stitches overlapping tiles (`predict_tiled`); `eval.tta=true`
averages the probabilities over the 8 flips/rotations of each tile (8× the prediction time;
on ISBI it moved the mean Dice by +0.0003, so it is off by default).

Metrics: Dice and IoU of the foreground at probability 0.5, per image and their mean
(`test_dice`, `test_iou`, `test_dice_per_image`), plus `val_dice`, `train_time_s`, ...
Figures: predictions.png (image | mask | probability | errors per test image), curves.png.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.recipes._figures import plot_segmentation
from dlcc.train import TrainConfig

Pair = tuple[Tensor, Tensor]


@dataclass
class UNetModel:
    name: Literal["unet", "unet-course"] = setting("unet", "unet (configurable) or unet-course (the course's)")
    depth: int = setting(4, "unet: down-sampling steps", ge=1)
    width: int = setting(16, "unet: channels of the first level (doubling per level)", ge=1)
    upsample: Literal["bilinear", "transposed"] = setting("bilinear", "unet: how the decoder up-samples")
    checkpointing: bool = setting(False, "unet: gradient checkpointing, recompute each level in backward (less "
                                         "memory, more time)")


@dataclass
class SegLoss:
    name: Literal["bce+dice", "bce", "dice", "focal"] = setting("bce+dice", "training loss on the logits")


@dataclass
class SegEval:
    tile: int = setting(512, "evaluate images larger than this in tiles of this size", ge=16)
    overlap: int = setting(32, "overlap of test tiles (stitched)", ge=0)
    threshold: float = setting(0.5, "foreground probability threshold for Dice/IoU and masks", gt=0, lt=1)
    tta: bool = setting(False, "average the 8 flips/rotations of each tile (8x the prediction time)")
    images: int = setting(4, "test images shown in predictions.png", ge=0)

    def check(self, where: str) -> None:
        if self.overlap >= self.tile:
            raise ConfigError(f"{where}overlap={self.overlap} must be smaller than {where}tile={self.tile}",
                              fix=f"--set {where}overlap=32")


@dataclass
class Patches:
    patch: int = setting(256, "side of the random training patches", ge=16)
    patches_per_epoch: int = setting(184, "random patches per epoch", ge=1)


SEG_TRAIN = dict(epochs=12, batch_size=8, optimizer="adam", lr=0.002, schedule="onecycle", pct_start=0.2,
                 select="val_dice")


@dataclass
class SegConfig:
    """What every U-Net recipe has; each recipe's own `data` section replaces `Patches`."""

    seed: int = setting(0, "seed for weights, the split, patches and augmentation", ge=0)
    data: Patches = section(Patches)
    model: UNetModel = section(UNetModel)
    loss: SegLoss = section(SegLoss)
    train: TrainConfig = section(TrainConfig, **SEG_TRAIN)
    eval: SegEval = section(SegEval)


class RandomPatches(Dataset):
    """`length` random augmented patches from `pairs` (image `[C,H,W]`, mask `[1,H,W]`).

    Item i comes from image `i mod len(pairs)`, so every image contributes equally however
    large it is. Randomness: torch's global generator (seeded per run, saved in checkpoints).
    """

    def __init__(self, pairs: list[Pair], patch: int, length: int):
        from dlcc.data.segmentation import default_augmentation

        self.pairs, self.length = pairs, int(length)
        self.transform = default_augmentation(crop=int(patch))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> Pair:
        image, mask = self.pairs[i % len(self.pairs)]
        image, mask = self.transform(image, mask)
        return image.contiguous(), mask.contiguous()


def eval_tiles(pairs: list[Pair], tile: int) -> list[Pair]:
    """Whole images when they fit in `tile`×`tile`, else non-overlapping tiles (padded to a full
    tile: reflect for images, zeros for masks) - bounded memory for per-epoch validation."""
    from dlcc.data.segmentation import pad_to_size, tile_image

    out = []
    for image, mask in pairs:
        if max(image.shape[-2:]) <= tile:
            out.append((image[None], mask[None]))
            continue
        size = (max(tile, image.shape[-2]), max(tile, image.shape[-1]))
        image, _ = pad_to_size(image, size)
        mask, _ = pad_to_size(mask, size, "constant")
        tiles, _ = tile_image(image, tile)
        masks, _ = tile_image(mask, tile)
        out.extend((t[None], m[None]) for t, m in zip(tiles, masks))
    return out


def dice_metric(logits: Tensor, target: Tensor) -> Tensor:
    """Mean per-image Dice at probability 0.5 of a batch of logits `[B, 1, H, W]`."""
    from dlcc.metrics import dice_per_image

    return dice_per_image(logits, target, from_logits=True).mean()


class PadTo(nn.Module):
    """Run `net` on inputs padded (reflect) to a multiple of `multiple`, and crop the output back
    (for nets such as the course U-Net that need sizes divisible by 8)."""

    def __init__(self, net: nn.Module, multiple: int):
        super().__init__()
        self.net, self.multiple = net, int(multiple)

    def forward(self, x: Tensor) -> Tensor:
        from dlcc.data.segmentation import pad_to_multiple, unpad

        x, pads = pad_to_multiple(x, self.multiple)
        return unpad(self.net(x), pads)


def build_unet(m: UNetModel, in_channels: int) -> nn.Module:
    """`model.name`: "unet" (configurable: depth, width, upsample) or "unet-course" (the course's)."""
    from dlcc.models import CourseUNet, UNet

    if m.name == "unet":
        return UNet(in_channels, 1, depth=m.depth, width=m.width, upsample=m.upsample, checkpointing=m.checkpointing)
    return PadTo(CourseUNet(C=in_channels), 8)


def d4_probs(model: nn.Module, x: Tensor) -> Tensor:
    """Test-time augmentation: the mean foreground probability over the 8 symmetries of the
    square (4 rotations × optional mirror), each mapped back. `[B, C, H, W]` → `[B, 1, H, W]`."""
    total = torch.zeros((x.shape[0], 1, *x.shape[-2:]), device=x.device)
    for flip in (False, True):
        xf = x.flip(-1) if flip else x
        for k in range(4):
            p = torch.sigmoid(model(torch.rot90(xf, k, (-2, -1))).float())
            p = torch.rot90(p, -k, (-2, -1))
            total += p.flip(-1) if flip else p
    return total / 8


@torch.no_grad()
def predict_probs(model: nn.Module, image: Tensor, tile: int, overlap: int, tta: bool = False) -> Tensor:
    """Foreground probability `[1, H, W]` of one image `[C, H, W]` (tiled when larger than
    `tile`; with `tta`, averaged over flips and 90° rotations, see `d4_probs`)."""
    from dlcc.data.segmentation import predict_tiled

    model.eval()
    probs = (lambda x: d4_probs(model, x)) if tta else (lambda x: torch.sigmoid(model(x).float()))
    if max(image.shape[-2:]) <= tile:
        return probs(image[None])[0]
    return predict_tiled(probs, image, tile, min(overlap, tile - 1))


def train_segmentation(cfg, ctx, splits: dict[str, list[Pair]], names: dict[str, list[str]], title: str) -> dict:
    """Train a U-Net on splits["train"] (random patches of `cfg.data`), select on splits["val"]
    (may be empty: then the last weights are kept), report splits["test"] once.
    `names[split]` names each pair (file stem, slice number, image id)."""
    from dlcc.losses import get_loss
    from dlcc.train import Task, train_and_report
    from dlcc.utils.device import choose_device

    device = choose_device(ctx.device)
    in_channels = splits["train"][0][0].shape[0]
    model = build_unet(cfg.model, in_channels).to(device)
    train_ds = RandomPatches(splits["train"], cfg.data.patch, cfg.data.patches_per_epoch)
    from dlcc.train.data import default_workers

    # Workers are re-seeded from torch's global RNG every epoch (not persistent), so a resumed
    # run draws the same patches as an uninterrupted one.
    workers = default_workers()
    train_loader = DataLoader(train_ds, batch_size=cfg.train.batch_size, shuffle=False, drop_last=False,
                              num_workers=workers, pin_memory=device.type == "cuda")
    val_loader = eval_tiles(splits["val"], cfg.eval.tile) if splits["val"] else None
    train_cfg = cfg.train
    if val_loader is None and train_cfg.select != "last":
        ctx.log(f"{title}: no validation images, so the last weights are kept (train.select=last)")
        from dataclasses import replace

        train_cfg = replace(train_cfg, select="last", patience=0)
    ctx.log(f"{title}: {len(splits['train'])} train / {len(splits['val'])} val / {len(splits['test'])} test "
            f"images; {len(train_ds)} patches of {cfg.data.patch}² per epoch")
    task = Task(model, train_loader, val_loader, get_loss(cfg.loss.name), metrics={"dice": dice_metric},
                title=title, artifacts={"input": {"channels": in_channels}, "threshold": cfg.eval.threshold})
    test = (lambda model, info: segmentation_report(model, splits["test"], names["test"], cfg.eval, device,
                                                    ctx.out_dir)) if splits["test"] else None
    return train_and_report(task, train_cfg, ctx, test=test)


def segmentation_report(model: nn.Module, pairs: list[Pair], names: list[str], ev: SegEval, device,
                        out_dir) -> dict:
    """Dice and IoU per test image at `ev.threshold` (tiled, optionally with D4 TTA) and
    predictions.png; returns the test metrics."""
    from dlcc.metrics import dice_per_image, iou_per_image

    start = time.perf_counter()
    probs = [predict_probs(model, img.to(device), ev.tile, ev.overlap, ev.tta).cpu() for img, _ in pairs]
    dice = [float(dice_per_image(p[None], m[None], ev.threshold)[0]) for p, (_, m) in zip(probs, pairs)]
    iou = [float(iou_per_image(p[None], m[None], ev.threshold)[0]) for p, (_, m) in zip(probs, pairs)]
    metrics = {"test_dice": float(np.mean(dice)), "test_iou": float(np.mean(iou)),
               "test_dice_per_image": dict(zip(names, [round(v, 4) for v in dice])),
               "test_time_s": round(time.perf_counter() - start, 3), "test_tta": "d4" if ev.tta else "none"}
    k = min(ev.images, len(probs))
    if k:
        plot_segmentation([img.numpy() for img, _ in pairs[:k]], [m.numpy() for _, m in pairs[:k]],
                          [p.numpy() for p in probs[:k]], out_dir / "predictions.png",
                          titles=[f"{n} (Dice {v:.3f})" for n, v in zip(names[:k], dice[:k])],
                          threshold=ev.threshold)
    return metrics
