"""MNIST-1D loaders shared by `mnist1d-mlp` and `mnist1d-cnn`.

The `mnist1d` package generates the data offline (4,000 train + 1,000 test signals of length
40, standardised); `val_size` training signals are held out (seeded) for model selection.
"""

from __future__ import annotations

import torch

from dlcc.train import TensorBatches, make_loader, split_indices


def load_loaders(cfg: dict) -> dict:
    from dlcc.data import load_mnist1d

    data = load_mnist1d(seed=int(cfg["data_seed"]))
    x, y = (torch.from_numpy(a) for a in data["train"])
    tx, ty = (torch.from_numpy(a) for a in data["test"])
    train_idx, val_idx = (torch.from_numpy(i) for i in split_indices(len(y), cfg["val_size"], seed=cfg["seed"]))
    return {
        "train": make_loader(TensorBatches(x[train_idx], y[train_idx]), cfg["batch_size"],
                             shuffle=True, seed=cfg["seed"]),
        "val": make_loader(TensorBatches(x[val_idx], y[val_idx]), 1000),
        "test": make_loader(TensorBatches(tx, ty), 1000),
    }


COMMON = {
    "seed": 0,
    "data_seed": 42,                   # the mnist1d package's default dataset
    "val_size": 500,
    "batch_size": 100,
    "select": "val_accuracy",
    "early_stopping": {"patience": 0, "min_delta": 0.0},
    "grad_accum_steps": 1,
    "clip_grad_norm": 0.0,
    "amp": "auto",
    "checkpoint_every": 1,
    "lr_find": False,
}
