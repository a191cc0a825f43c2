"""`cifar10-mlp`: the course's A2 PyTorch MLP on CIFAR-10 (target: test accuracy > 0.5).

Data: CIFAR-10 from `dlcc.data.load_cifar10` (the shared JPEG zips or the official batches);
3,000 training images are held out for validation (seeded), the per-pixel mean image of the
training part is subtracted, and training batches are flipped at random (data.hflip;
data.vflip adds the course demo's vertical flips). Model: `Linear -> ReLU` per hidden size,
then `Linear(last, 10)` (1,083,610 parameters with the default sizes). SGD with momentum 0.9,
batch 256, lr 0.05; `--set train.schedule=onecycle train.lr=0.2` gives the course's OneCycle
(peak 0.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dlcc.config import section, setting
from dlcc.recipes._classify import MLPModel, build_mlp
from dlcc.recipes.registry import Recipe
from dlcc.train import TensorBatches, TrainConfig, make_loader, split_indices


@dataclass
class MlpData:
    val_size: int = setting(3000, "training images held out for validation", ge=1)
    subset: int = setting(0, "use only this many random training images (0: all; quick trials)", ge=0)
    hflip: bool = setting(True, "random horizontal flips of training batches")
    vflip: bool = setting(False, "random vertical flips too (the course's demo; they cost accuracy)")
    subtract_mean: bool = setting(True, "subtract the training images' per-pixel mean image")


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, the split, data order and flips", ge=0)
    data: MlpData = section(MlpData)
    model: MLPModel = section(MLPModel, hidden=[300, 200, 200, 200, 100])
    train: TrainConfig = section(TrainConfig, epochs=12, batch_size=256, optimizer="sgd", lr=0.05, momentum=0.9,
                                 select="val_accuracy")


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


def load_loaders(data: MlpData, batch_size: int, seed: int) -> dict:
    """Train/val/test loaders over CIFAR-10 held as uint8 tensors (150 MB, not 600 MB of floats),
    plus "mean" (the subtracted mean image) and "test_images"."""
    from dlcc.data import load_cifar10

    raw = load_cifar10()
    x, y = raw["train"]
    tx, ty = raw["test"]
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))   # NHWC -> NCHW
    labels = torch.from_numpy(y.astype(np.int64))
    if data.subset:
        keep = np.sort(np.random.default_rng(seed).permutation(len(labels))[: data.subset])
        images, labels = images[keep], labels[keep]
    train_idx, val_idx = (torch.from_numpy(i) for i in split_indices(len(labels), data.val_size, seed=seed))
    mean = _mean_image(images[train_idx]) if data.subtract_mean else torch.zeros(3, 32, 32)
    plain = CifarBatch(mean)
    test_images = torch.from_numpy(np.ascontiguousarray(tx.transpose(0, 3, 1, 2)))
    return {
        "train": make_loader(TensorBatches(images[train_idx], labels[train_idx]), batch_size, shuffle=True,
                             seed=seed, transform=CifarBatch(mean, data.hflip, data.vflip)),
        "val": make_loader(TensorBatches(images[val_idx], labels[val_idx]), 1000, transform=plain),
        "test": make_loader(TensorBatches(test_images, torch.from_numpy(ty.astype(np.int64))), 1000,
                            transform=plain),
        "mean": mean, "test_images": tx,
    }


def build_model(cfg: Config, artifacts: dict | None = None):
    return build_mlp(cfg.model, 3 * 32 * 32)


def run(cfg: Config, ctx) -> dict:
    from dlcc.data import CIFAR10_CLASSES
    from dlcc.recipes._classify import test_report
    from dlcc.train import Task, train_and_report

    loaders = load_loaders(cfg.data, cfg.train.batch_size, cfg.seed)
    classes = list(CIFAR10_CLASSES)
    task = Task(build_model(cfg), loaders["train"], loaders["val"], torch.nn.CrossEntropyLoss(), title="cifar10-mlp",
                artifacts={"classes": classes, "input": {"shape": [3, 32, 32], "scale": 1 / 255,
                                                         "mean_image": loaders["mean"]}})
    return train_and_report(task, cfg.train, ctx, test=lambda model, info: test_report(
        model, loaders["test"], classes, ctx.out_dir, "cifar10-mlp", images=loaders["test_images"]))


RECIPE = Recipe(
    name="cifar10-mlp",
    summary="A2: PyTorch MLP [300,200,200,200,100] on CIFAR-10, SGD momentum (test acc > 0.5)",
    data="cifar10",
    config=Config,
    run=run,
    build_model=build_model,
    tags=("A2", "torch"),
)
