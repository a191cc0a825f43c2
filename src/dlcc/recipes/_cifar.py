"""CIFAR-10 for the CNN recipes: images held as uint8 tensors on the training device,
augmented a batch at a time (`dlcc.data.cifar_gpu.CifarBatches`).

Protocol: models are selected on the validation split (`train.select`, default val_accuracy;
"last" keeps the final weights, e.g. with no validation split); the test split is evaluated
once, at the end (`dlcc.recipes._classify.test_report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlcc.config import section, setting
from dlcc.errors import ConfigError


@dataclass
class Augment:
    crop: int = setting(4, "random crop after padding this many pixels (0: no crop)", ge=0)
    pad_mode: Literal["reflect", "zeros"] = setting("reflect", "padding for the random crop")
    flip: Literal["none", "random", "alternate"] = setting("random", "horizontal flips (alternate: every "
                                                                    "other epoch per image)")
    cutout: int = setting(0, "side of a zeroed square per image (0: off)", ge=0)


@dataclass
class CifarData:
    val_size: int = setting(3000, "training images held out for validation (0: none)", ge=0)
    subset: int = setting(0, "train on this many random images only (0: all; quick trials)", ge=0)
    test_subset: int = setting(0, "test on this many random images only (0: all; quick trials)", ge=0)
    augment: Augment = section(Augment)


@dataclass
class CifarEval:
    batch_size: int = setting(1000, "images per evaluation batch", ge=1)
    tta: bool = setting(False, "test-time augmentation: average the logits of each image and its mirror")
    monitor_test: bool = setting(False, "measure test accuracy during training (a time-to-accuracy curve; "
                                        "nothing is selected on it)")
    monitor_every_steps: int = setting(0, "with monitor_test: also every N optimizer steps (0: each evaluation)",
                                       ge=0)
    top_losses: int = setting(16, "highest-loss test images in top_losses.png (0: none)", ge=0)

    def check(self, where: str) -> None:
        if self.monitor_every_steps and not self.monitor_test:
            raise ConfigError(f"{where}monitor_every_steps needs {where}monitor_test=true",
                              fix=f"--set {where}monitor_test=true")


def check_split(data: CifarData, select: str) -> None:
    if select != "last" and data.val_size == 0:
        raise ConfigError(f"train.select={select} needs a validation split but data.val_size=0",
                          fix="--set data.val_size=3000, or --set train.select=last")


def cifar_loaders(data: CifarData, batch_size: int, eval_batch_size: int, seed: int, device: torch.device,
                  channels_last: bool = False) -> dict:
    """CIFAR-10 as `CifarBatches` on `device`: {"train", "val" (None when val_size=0), "test",
    "test_images" (uint8 [N,32,32,3] for figures), "classes"}.

    `subset > 0` keeps a seeded random subset of the training images (quick trials); the
    validation images are a seeded random `val_size` of the (subset of the) training images.
    """
    from dlcc.data import CIFAR10_CLASSES, load_cifar10
    from dlcc.data.cifar_gpu import CifarBatches
    from dlcc.train import split_indices

    raw = load_cifar10()
    x, y = raw["train"]
    tx, ty = raw["test"]
    if data.subset:
        keep = np.sort(np.random.default_rng(seed).permutation(len(y))[: data.subset])
        x, y = x[keep], y[keep]
    if data.test_subset:
        keep = np.sort(np.random.default_rng(seed + 1).permutation(len(ty))[: data.test_subset])
        tx, ty = tx[keep], ty[keep]
    val = None
    if data.val_size:
        train_idx, val_idx = split_indices(len(y), data.val_size, seed=seed)
        val = CifarBatches(x[val_idx], y[val_idx], eval_batch_size, device=device, channels_last=channels_last)
        x, y = x[train_idx], y[train_idx]
    augment = {"crop": data.augment.crop, "pad_mode": data.augment.pad_mode, "flip": data.augment.flip,
               "cutout": data.augment.cutout}
    train = CifarBatches(x, y, batch_size, shuffle=True, augment=augment, seed=seed, device=device,
                         drop_last=len(y) > batch_size, channels_last=channels_last)
    test = CifarBatches(tx, ty, eval_batch_size, device=device, channels_last=channels_last)
    return {"train": train, "val": val, "test": test, "test_images": tx, "classes": list(CIFAR10_CLASSES)}


def preprocessing() -> dict:
    """How a CIFAR recipe's model expects its input (saved in model.pt for `load_run`)."""
    from dlcc.data.cifar_gpu import CIFAR10_MEAN, CIFAR10_STD

    return {"shape": [3, 32, 32], "scale": 1 / 255, "mean": list(CIFAR10_MEAN), "std": list(CIFAR10_STD)}


def monitor_callbacks(model, loaders: dict, ev: CifarEval, ctx) -> list:
    """An `EvalMonitor` of test accuracy when `eval.monitor_test` (for time-to-accuracy curves)."""
    if not (ev.monitor_test and ctx.evaluate_test):
        return []
    from dlcc.recipes._classify import predict_logits
    from dlcc.train import EvalMonitor

    def test_accuracy() -> float:
        logits, targets = predict_logits(model, loaders["test"], ev.tta)
        return float((logits.argmax(1) == targets).double().mean())

    return [EvalMonitor(test_accuracy, ev.monitor_every_steps)]


def report_monitor(callbacks: list) -> dict:
    """The time-to-accuracy figures of an `EvalMonitor` among `callbacks` (empty without one)."""
    from dlcc.train import EvalMonitor

    for monitor in callbacks:
        if isinstance(monitor, EvalMonitor):
            out = {"test_curve": monitor.points}
            for threshold in (0.8, 0.85, 0.9, 0.94):
                out[f"time_to_{int(threshold * 100)}_s"] = monitor.time_to(threshold)
            return out
    return {}
