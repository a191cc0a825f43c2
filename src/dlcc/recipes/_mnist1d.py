"""MNIST-1D data shared by `mnist1d-mlp` and `mnist1d-cnn`.

The `mnist1d` package generates the data offline (4,000 train + 1,000 test signals of length
40, standardised); `data.val_size` training signals are held out (seeded) for model selection.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlcc.config import setting
from dlcc.train import TensorBatches, make_loader, split_indices

CLASSES = [str(i) for i in range(10)]


@dataclass
class Mnist1dData:
    seed: int = setting(42, "the mnist1d package's dataset seed (42: its default dataset)", ge=0)
    val_size: int = setting(500, "training signals held out for validation", ge=1)


def load_loaders(data: Mnist1dData, batch_size: int, seed: int) -> dict:
    """{"train", "val", "test"} loaders of `(x float32 [B, 40], y int64 [B])`."""
    from dlcc.data import load_mnist1d

    raw = load_mnist1d(seed=data.seed)
    x, y = (torch.from_numpy(a) for a in raw["train"])
    tx, ty = (torch.from_numpy(a) for a in raw["test"])
    train_idx, val_idx = (torch.from_numpy(i) for i in split_indices(len(y), data.val_size, seed=seed))
    return {
        "train": make_loader(TensorBatches(x[train_idx], y[train_idx]), batch_size, shuffle=True, seed=seed),
        "val": make_loader(TensorBatches(x[val_idx], y[val_idx]), 1000),
        "test": make_loader(TensorBatches(tx, ty), 1000),
    }


def run_classifier(cfg, ctx, model, title: str) -> dict:
    """Train `model` on MNIST-1D with `cfg.train`, select on validation, test once."""
    from dlcc.recipes._classify import test_report
    from dlcc.train import Task, train_and_report

    loaders = load_loaders(cfg.data, cfg.train.batch_size, cfg.seed)
    task = Task(model, loaders["train"], loaders["val"], torch.nn.CrossEntropyLoss(), title=title,
                artifacts={"classes": CLASSES, "input": {"shape": [40]}})
    return train_and_report(task, cfg.train, ctx, test=lambda m, info: test_report(
        m, loaders["test"], CLASSES, ctx.out_dir, title))
