"""`cifar10-mlp`: the course's A2 PyTorch MLP on CIFAR-10 (target: test accuracy > 0.5).

Data: CIFAR-10 from `dlcc.data.load_cifar10` (the shared JPEG zips or the official batches);
3,000 training images are held out for validation (seeded), the per-pixel mean image of the
training part is subtracted, and training batches are flipped at random (augment.hflip;
augment.vflip adds the course demo's vertical flips). Model: `Linear -> ReLU` per hidden size,
then `Linear(last, 10)` (1,083,610 parameters with the default sizes). SGD with momentum 0.9,
batch 256, lr 0.05; `--set scheduler=onecycle` gives the course's OneCycle (max_lr 0.2).
"""

from __future__ import annotations

import numpy as np
import torch

from dlcc.models.mlp import MLP
from dlcc.recipes._torch import check_common, train_classifier
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import TensorBatches, make_loader, split_indices

DEFAULTS = {
    "seed": 0,
    "epochs": 12,
    "batch_size": 256,
    "val_size": 3000,
    "subset": 0,                       # >0: use only this many training images (quick trials)
    "model": {"hidden": [300, 200, 200, 200, 100], "activation": "relu", "dropout": 0.0,
              "batchnorm": False},
    "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0},
    "scheduler": "none",               # none | step | cosine | warmup_cosine | onecycle | plateau
    "scheduler_options": {"max_lr": 0.2, "pct_start": 0.3, "step_size": 10, "gamma": 0.5,
                          "min_lr": 0.0, "warmup_steps": 0},
    "augment": {"hflip": True, "vflip": False},
    "subtract_mean": True,
    "select": "val_accuracy",          # the validation metric that picks the final weights
    "early_stopping": {"patience": 0, "min_delta": 0.0},   # patience 0 = off
    "grad_accum_steps": 1,
    "clip_grad_norm": 0.0,             # 0 = off
    "amp": "auto",                     # mixed precision on CUDA only
    "checkpoint_every": 1,
    "lr_find": False,                  # run the LR range test first and save lr_find.png
}


class CifarBatch:
    """uint8 `[B, 3, 32, 32]` -> float32 `(x / 255 - mean)`, with random flips when training.

    Flips draw from torch's global RNG, which checkpoints save, so resumed runs flip alike.
    """

    def __init__(self, mean: torch.Tensor, hflip: bool = False, vflip: bool = False):
        self.mean, self.hflip, self.vflip = mean, hflip, vflip

    def __call__(self, batch):
        x, y = batch
        x = x.float().div_(255).sub_(self.mean)
        for enabled, dim in ((self.hflip, -1), (self.vflip, -2)):
            if enabled:
                flip = (torch.rand(len(x)) < 0.5)[:, None, None, None]
                x = torch.where(flip, x.flip(dim), x)
        return x, y


def _mean_image(x: torch.Tensor, chunk: int = 5000) -> torch.Tensor:
    """Per-pixel mean of uint8 images `[N, 3, 32, 32]` in [0, 1], computed in chunks (no 600 MB copy)."""
    total = torch.zeros(x.shape[1:], dtype=torch.float64)
    for i in range(0, len(x), chunk):
        total += x[i:i + chunk].double().sum(0)
    return (total / (255.0 * len(x))).float()


def load_loaders(cfg: dict) -> dict:
    """Train/val/test loaders over CIFAR-10 held as uint8 tensors (150 MB, not 600 MB of floats)."""
    from dlcc.data import load_cifar10

    data = load_cifar10()
    x, y = data["train"]
    tx, ty = data["test"]
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))   # NHWC -> NCHW
    labels = torch.from_numpy(y.astype(np.int64))
    if cfg["subset"]:
        keep = np.sort(np.random.default_rng(cfg["seed"]).permutation(len(labels))[: cfg["subset"]])
        images, labels = images[keep], labels[keep]
    train_idx, val_idx = split_indices(len(labels), cfg["val_size"], seed=cfg["seed"])
    train_idx, val_idx = torch.from_numpy(train_idx), torch.from_numpy(val_idx)
    mean = _mean_image(images[train_idx]) if cfg["subtract_mean"] else torch.zeros(3, 32, 32)
    augment = CifarBatch(mean, bool(cfg["augment"]["hflip"]), bool(cfg["augment"]["vflip"]))
    plain = CifarBatch(mean)
    test_images = torch.from_numpy(np.ascontiguousarray(tx.transpose(0, 3, 1, 2)))
    return {
        "train": make_loader(TensorBatches(images[train_idx], labels[train_idx]), cfg["batch_size"],
                             shuffle=True, seed=cfg["seed"], transform=augment),
        "val": make_loader(TensorBatches(images[val_idx], labels[val_idx]), 1000, transform=plain),
        "test": make_loader(TensorBatches(test_images, torch.from_numpy(ty.astype(np.int64))), 1000,
                            transform=plain),
    }


def run(cfg: dict, ctx: RunContext) -> dict:
    check_common(cfg)
    loaders = load_loaders(cfg)
    m = cfg["model"]
    model = MLP(3 * 32 * 32, m["hidden"], 10, activation=m["activation"], dropout=m["dropout"],
                batchnorm=m["batchnorm"])
    return train_classifier(cfg, ctx, model, loaders, title="cifar10-mlp")


RECIPE = Recipe(
    name="cifar10-mlp",
    summary="A2: PyTorch MLP [300,200,200,200,100] on CIFAR-10, SGD momentum (test acc > 0.5)",
    data="cifar10",
    defaults=DEFAULTS,
    run=run,
    tags=("A2", "torch"),
)
