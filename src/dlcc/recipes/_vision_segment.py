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

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from dlcc.errors import ConfigError
from dlcc.recipes._vision_callbacks import TrainClock
from dlcc.recipes._vision_classify import build_schedule
from dlcc.recipes._vision_figures import plot_segmentation
from dlcc.recipes.registry import RunContext
from dlcc.train import BestModel, EarlyStopping, fit

Pair = tuple[Tensor, Tensor]

SEG_DEFAULTS = {
    "seed": 0,
    "epochs": 12,
    "batch_size": 8,
    "time_budget_s": 0.0,              # >0: stop after this many seconds of training, then evaluate
    "time_budget_clock": "wall",       # wall | cpu (process CPU time / threads, for shared machines)
    "model": {"name": "unet", "depth": 4, "width": 16, "upsample": "bilinear"},
    "loss": {"name": "bce+dice"},
    "optimizer": {"name": "adam", "lr": 0.002, "weight_decay": 0.0},
    "scheduler": "onecycle",
    "scheduler_options": {"max_lr": 0.002, "pct_start": 0.2, "step_size": 5, "gamma": 0.5, "min_lr": 0.0,
                          "warmup_steps": 0},
    "select": "val_dice",              # val_dice | val_loss | last
    "early_stopping": {"patience": 0, "min_delta": 0.0},
    "clip_grad_norm": 0.0,
    "amp": "auto",
    "checkpoint_every": 1,
    "eval": {"tile": 512, "overlap": 32, "threshold": 0.5, "tta": False},
    "figures": {"images": 4},
}


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


def build_unet(m: dict, in_channels: int) -> nn.Module:
    """`model.name`: "unet" (configurable: depth, width, upsample) or "unet-course" (the course's)."""
    from dlcc.models import CourseUNet, UNet

    if m["name"] == "unet":
        return UNet(in_channels, 1, depth=int(m["depth"]), width=int(m["width"]), upsample=str(m["upsample"]))
    if m["name"] == "unet-course":
        return PadTo(CourseUNet(C=in_channels), 8)
    raise ConfigError(f"model.name={m['name']!r} is not a segmentation model here",
                      fix="--set model.name=unet (configurable) or model.name=unet-course")


def check_seg_config(cfg: dict) -> None:
    for key in ("epochs", "batch_size"):
        if int(cfg[key]) < 1:
            raise ConfigError(f"{key} must be >= 1, got {cfg[key]}", fix=f"e.g. --set {key}=4")
    d = cfg["data"]
    if int(d["patch"]) < 16 or int(d["patches_per_epoch"]) < 1:
        raise ConfigError(f"data.patch must be >= 16 and data.patches_per_epoch >= 1, got {d['patch']} and "
                          f"{d['patches_per_epoch']}", fix="e.g. --set data.patch=256 --set data.patches_per_epoch=160")
    if cfg["select"] not in ("val_dice", "val_loss", "last"):
        raise ConfigError(f"select={cfg['select']!r} is not one of val_dice, val_loss, last",
                          fix="--set select=val_dice")
    if float(cfg["time_budget_s"]) < 0:
        raise ConfigError(f"time_budget_s must be >= 0, got {cfg['time_budget_s']}", fix="e.g. --set time_budget_s=600")
    if int(cfg["eval"]["tile"]) < 16 or not 0 <= int(cfg["eval"]["overlap"]) < int(cfg["eval"]["tile"]):
        raise ConfigError(f"eval.tile must be >= 16 and 0 <= eval.overlap < eval.tile, got "
                          f"{cfg['eval']['tile']} and {cfg['eval']['overlap']}", fix="--set eval.tile=512 eval.overlap=32")


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


def plot_seg_curves(history: list[dict], path, title: str):
    from matplotlib.figure import Figure

    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, 2)
    for ax, key in zip(axes, ("loss", "dice")):
        for split, style in (("train", "-"), ("val", "--")):
            values = [h.get(f"{split}_{key}", float("nan")) for h in history]
            if any(v == v for v in values):
                ax.plot(epochs, values, style, marker="o", ms=3, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def train_segmentation(cfg: dict, ctx: RunContext, splits: dict[str, list[Pair]], names: dict[str, list[str]],
                       title: str) -> dict:
    """Train a U-Net on splits["train"] (patches), select on splits["val"] (may be empty), report
    splits["test"]. `names[split]` names each pair (file stem, slice number, image id)."""
    from dlcc.losses import get_loss
    from dlcc.metrics import dice_per_image, iou_per_image
    from dlcc.recipes._torch import make_optimizer
    from dlcc.utils.device import choose_device

    device = choose_device(ctx.device)
    d, ev = cfg["data"], cfg["eval"]
    in_channels = splits["train"][0][0].shape[0]
    model = build_unet(cfg["model"], in_channels).to(device)
    loss_opts = {k: v for k, v in cfg["loss"].items() if k != "name"}
    loss_fn = get_loss(str(cfg["loss"]["name"]), **loss_opts)
    train_ds = RandomPatches(splits["train"], int(d["patch"]), int(d["patches_per_epoch"]))
    train_loader = DataLoader(train_ds, batch_size=int(cfg["batch_size"]), shuffle=False, drop_last=False)
    val_loader = eval_tiles(splits["val"], int(ev["tile"])) if splits["val"] else None
    optimizer = make_optimizer(model.parameters(), cfg["optimizer"])
    scheduler, interval = build_schedule(cfg, optimizer, len(train_loader))

    select = cfg["select"] if val_loader is not None else "last"
    clock = TrainClock(float(cfg["time_budget_s"]) or None, str(cfg["time_budget_clock"]))
    callbacks = [clock]
    best = None
    if select != "last":
        mode = "max" if select == "val_dice" else "min"
        best = BestModel(select, mode)
        callbacks.append(best)
        if int(cfg["early_stopping"]["patience"]) > 0:
            callbacks.append(EarlyStopping(select, int(cfg["early_stopping"]["patience"]),
                                           float(cfg["early_stopping"]["min_delta"]), mode))
    tracker, tracking = ctx.open_tracker(cfg, log_params=False)
    callbacks += tracking
    callbacks.extend(ctx.callbacks)
    n_params = sum(p.numel() for p in model.parameters())
    ctx.log(f"{title}: {n_params:,} parameters; {len(splits['train'])} train / {len(splits['val'])} val / "
            f"{len(splits['test'])} test images; {len(train_ds)} patches of {d['patch']}² per epoch on {device}")
    try:
        start = time.perf_counter()
        trainer = fit(model, train_loader, val_loader, loss_fn, optimizer, int(cfg["epochs"]), scheduler=scheduler,
                      scheduler_interval=interval, callbacks=callbacks, device=device,
                      clip_grad_norm=float(cfg["clip_grad_norm"]) or None, amp=str(cfg["amp"]),
                      metrics={"dice": dice_metric}, out_dir=ctx.out_dir,
                      checkpoint_every=int(cfg["checkpoint_every"]), resume=ctx.resume, progress=ctx.progress,
                      config=cfg, log=ctx.log)
        fit_time = time.perf_counter() - start
        history = trainer.history
        curves = plot_seg_curves(history, ctx.out_dir / "curves.png", title)
        last = history[-1] if history else {}
        metrics = {"train_time_s": round(clock.done, 3), "fit_time_s": round(fit_time, 3),
                   "epochs_run": len(history), "steps": trainer.global_step,
                   "train_loss": last.get("train_loss"), "train_dice": last.get("train_dice"),
                   "num_parameters": n_params}
        rows = [h for h in history if "val_dice" in h]
        if rows:
            if select == "last":
                pick = rows[-1]
            elif select == "val_loss":
                pick = min(rows, key=lambda h: h["val_loss"])
            else:
                pick = max(rows, key=lambda h: h["val_dice"])
            metrics.update(val_dice=pick["val_dice"], val_loss=pick["val_loss"])
        if best is not None:
            metrics["best_epoch"] = best.best_epoch
        if trainer.stop_reason:
            metrics["stop_reason"] = trainer.stop_reason
        if ctx.evaluate_test and splits["test"]:
            start = time.perf_counter()
            tta = bool(ev["tta"])
            probs = [predict_probs(model, img.to(device), int(ev["tile"]), int(ev["overlap"]), tta).cpu()
                     for img, _ in splits["test"]]
            thr = float(ev["threshold"])
            dice = [float(dice_per_image(p[None], m[None], thr)[0]) for p, (_, m) in zip(probs, splits["test"])]
            iou = [float(iou_per_image(p[None], m[None], thr)[0]) for p, (_, m) in zip(probs, splits["test"])]
            metrics.update(test_dice=float(np.mean(dice)), test_iou=float(np.mean(iou)),
                           test_dice_per_image=dict(zip(names["test"], [round(v, 4) for v in dice])),
                           test_time_s=round(time.perf_counter() - start, 3), test_tta="d4" if tta else "none")
            k = min(int(cfg["figures"]["images"]), len(probs))
            if k:
                plot_segmentation([img.numpy() for img, _ in splits["test"][:k]],
                                  [m.numpy() for _, m in splits["test"][:k]], [p.numpy() for p in probs[:k]],
                                  ctx.out_dir / "predictions.png",
                                  titles=[f"{n} (Dice {v:.3f})" for n, v in zip(names["test"][:k], dice[:k])],
                                  threshold=thr)
        if tracker is not None:
            tracker.log_figure("curves", curves, trainer.global_step)
            if (ctx.out_dir / "predictions.png").exists():
                tracker.log_figure("predictions", ctx.out_dir / "predictions.png", trainer.global_step)
            tracker.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))},
                                trainer.global_step)
    finally:
        if tracker is not None:
            tracker.close()
    return metrics
