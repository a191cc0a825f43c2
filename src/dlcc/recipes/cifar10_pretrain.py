"""`cifar10-pretrain`: a supervised backbone on CIFAR-10 classes 0-4, saved for transfer learning.

Trains the airbench-style fast net (`cifar10-fast`'s recipe: whitening init, SGD with Nesterov
momentum, BatchNorm biases at a higher LR, label smoothing, lookahead, alternating flips) on the
five classes airplane, automobile, bird, cat, deer only, and writes `backbone.pt` - the network
without its classifier, with its architecture and config (`dlcc.transfer.save_backbone`) - next
to the usual model.pt and metrics.json. `cifar10-transfer` then reuses it on the five classes
it never saw (dog, frog, horse, ship, truck): `--set transfer.backbone=RUN_DIR`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.recipes._cifar import Augment, CifarData, CifarEval, check_split, preprocessing
from dlcc.recipes.cifar10_fast import FastTrain, Lookahead, Whiten, WhitenBiasWindow, param_groups
from dlcc.recipes.registry import Recipe
from dlcc.transfer import BackboneModel

SOURCE_CLASSES = [0, 1, 2, 3, 4]


@dataclass
class PretrainData(CifarData):
    classes: list[int] = setting(SOURCE_CLASSES, "CIFAR-10 classes the backbone learns (the others stay unseen)",
                                 ge=0, le=9)

    def check(self, where: str) -> None:
        if len(set(self.classes)) != len(self.classes) or len(self.classes) < 2:
            raise ConfigError(f"{where}classes={self.classes} needs two or more distinct classes",
                              fix=f"--set {where}classes=[0,1,2,3,4]")


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, data order and augmentation", ge=0)
    data: PretrainData = section(PretrainData, val_size=1000, augment=Augment(crop=2, flip="alternate"))
    model: BackboneModel = section(BackboneModel)
    whiten: Whiten = section(Whiten)
    lookahead: Lookahead = section(Lookahead)
    train: FastTrain = section(FastTrain, epochs=8, batch_size=512, optimizer="sgd", lr=0.75, momentum=0.85,
                               nesterov=True, weight_decay=0.00133, schedule="triangle", pct_start=0.23,
                               start_factor=0.2, end_factor=0.07, select="last")
    eval: CifarEval = section(CifarEval, top_losses=0)

    def check(self, where: str) -> None:
        check_split(self.data, self.train.select)


def build_model(cfg: Config, artifacts: dict | None = None) -> nn.Module:
    """CifarFastNet with one output per pretraining class; its weights minus `head.*` are a
    `fastnet` backbone's (same parameter names)."""
    from dlcc.models import CifarFastNet

    m = cfg.model
    return CifarFastNet(widths=tuple(m.widths), num_classes=len(cfg.data.classes), bn_momentum=m.bn_momentum)


def source_loaders(cfg: Config, device: torch.device) -> dict:
    """CifarBatches of the pretraining classes (labels 0..K-1): train, val (or None), test."""
    from dlcc.data import CIFAR10_CLASSES, load_cifar10
    from dlcc.data.cifar_gpu import CifarBatches
    from dlcc.train import split_indices
    from dlcc.transfer import class_subset

    d = cfg.data
    raw = load_cifar10()
    x, y = class_subset(*raw["train"], d.classes)
    tx, ty = class_subset(*raw["test"], d.classes)
    if d.subset:
        keep = np.sort(np.random.default_rng(cfg.seed).permutation(len(y))[: d.subset])
        x, y = x[keep], y[keep]
    if d.test_subset:
        keep = np.sort(np.random.default_rng(cfg.seed + 1).permutation(len(ty))[: d.test_subset])
        tx, ty = tx[keep], ty[keep]
    val = None
    if d.val_size:
        train_idx, val_idx = split_indices(len(y), d.val_size, seed=cfg.seed)
        val = CifarBatches(x[val_idx], y[val_idx], cfg.eval.batch_size, device=device)
        x, y = x[train_idx], y[train_idx]
    augment = {"crop": d.augment.crop, "pad_mode": d.augment.pad_mode, "flip": d.augment.flip,
               "cutout": d.augment.cutout}
    b = cfg.train.batch_size
    return {"train": CifarBatches(x, y, b, shuffle=True, augment=augment, seed=cfg.seed, device=device,
                                  drop_last=len(y) > b),
            "val": val, "test": CifarBatches(tx, ty, cfg.eval.batch_size, device=device),
            "classes": [CIFAR10_CLASSES[c] for c in d.classes]}


def run(cfg: Config, ctx) -> dict:
    from dlcc.data.cifar_gpu import normalize
    from dlcc.models import whiten_init_
    from dlcc.recipes._classify import test_report
    from dlcc.train import Lookahead as LookaheadCallback
    from dlcc.train import Task, train_and_report
    from dlcc.transfer import build_backbone, save_backbone
    from dlcc.utils.device import choose_device

    device = choose_device(ctx.device)
    loaders = source_loaders(cfg, device)
    model = build_model(cfg).to(device)
    if cfg.whiten.enabled:
        whiten_init_(model.whiten, normalize(loaders["train"].images[: cfg.whiten.images]), eps=cfg.whiten.eps)
    else:
        model.whiten.weight.requires_grad_(True)
    callbacks = [WhitenBiasWindow(model.whiten, cfg.whiten.bias_epochs)] if cfg.whiten.enabled else []
    if cfg.lookahead.enabled:
        callbacks.append(LookaheadCallback(every=cfg.lookahead.every, base=cfg.lookahead.base))
    task = Task(model, loaders["train"], loaders["val"], nn.CrossEntropyLoss(label_smoothing=cfg.train.label_smoothing),
                param_groups=param_groups(model, cfg.train), callbacks=callbacks, title="cifar10-pretrain",
                artifacts={"classes": loaders["classes"], "input": preprocessing()})

    def test(model, info):
        return test_report(model, loaders["test"], loaders["classes"], ctx.out_dir, "cifar10-pretrain",
                           tta=cfg.eval.tta, top_k=0)

    metrics = train_and_report(task, cfg.train, ctx, test=test)
    backbone = build_backbone(cfg.model.arch, **cfg.model.backbone_config())
    backbone.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("head.")})
    save_backbone(ctx.out_dir / "backbone.pt", backbone, cfg.model.arch, cfg.model.backbone_config(),
                  source={"recipe": "cifar10-pretrain", "classes": loaders["classes"], "seed": cfg.seed})
    ctx.log(f"backbone saved: {ctx.out_dir / 'backbone.pt'} ({cfg.model.arch}, widths {cfg.model.widths})")
    return {**metrics, "backbone": "backbone.pt"}


RECIPE = Recipe(
    name="cifar10-pretrain",
    summary="supervised fast-net backbone on CIFAR-10 classes 0-4, saved as backbone.pt for cifar10-transfer",
    data="cifar10",
    config=Config,
    run=run,
    build_model=build_model,
    tags=("vision", "transfer"),
)
