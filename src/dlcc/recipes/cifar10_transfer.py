"""`cifar10-transfer`: a few labels of five unseen CIFAR-10 classes, from scratch or from a backbone.

The target task is CIFAR-10's classes 5-9 (dog, frog, horse, ship, truck), which the
`cifar10-pretrain` backbone never saw, with only `transfer.labels` labelled training images
(balanced, 100 to 1,000 in the benchmark). Three ways to train the same network
(`transfer.mode`):

    scratch    random init (whitening from the labelled images), one LR
    probe      the pretrained backbone frozen, a new linear head
    finetune   the pretrained backbone and a new head, discriminative LRs per stage

    dlcc run cifar10-pretrain --out runs/pre
    dlcc run cifar10-transfer --set transfer.backbone=runs/pre --set transfer.labels=100
    dlcc run cifar10-transfer --set transfer.mode=scratch --set "transfer.lr_grid=[0.001,0.003,0.01]"

`transfer.lr_grid` chooses the LR on `transfer.val_size` held-out training images of the
target classes; the test split (the 5,000 test images of classes 5-9) is evaluated once, at
the end. Writes metrics.json (test_accuracy, lr, lr_search), model.pt, curves.png, confusion.png.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.recipes._cifar import Augment, CifarEval, preprocessing
from dlcc.recipes.registry import Recipe
from dlcc.train import TrainConfig
from dlcc.transfer import BackboneModel, TransferSettings

TARGET_CLASSES = [5, 6, 7, 8, 9]


@dataclass
class TargetData:
    classes: list[int] = setting(TARGET_CLASSES, "CIFAR-10 classes of the target task", ge=0, le=9)
    test_subset: int = setting(0, "test on this many random target test images only (0: all; quick trials)", ge=0)
    augment: Augment = section(Augment, crop=2, flip="random")

    def check(self, where: str) -> None:
        if len(set(self.classes)) != len(self.classes) or len(self.classes) < 2:
            raise ConfigError(f"{where}classes={self.classes} needs two or more distinct classes",
                              fix=f"--set {where}classes=[5,6,7,8,9]")


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, data order, augmentation and the labelled sample", ge=0)
    data: TargetData = section(TargetData)
    model: BackboneModel = section(BackboneModel)
    transfer: TransferSettings = section(TransferSettings)
    train: TrainConfig = section(TrainConfig, epochs=20, batch_size=32, optimizer="adamw", lr=0.001,
                                 weight_decay=0.05, schedule="cosine", select="last")
    eval: CifarEval = section(CifarEval, top_losses=0)


def build_model(cfg: Config, artifacts: dict | None = None) -> nn.Module:
    """The target network (random weights; `load_run` fills in the trained ones)."""
    from dlcc.transfer import TransferNet, build_backbone

    backbone = build_backbone(cfg.model.arch, **cfg.model.backbone_config())
    return TransferNet(backbone, len(cfg.data.classes), frozen=cfg.transfer.mode == "probe")


def target_data(cfg: Config) -> dict:
    """uint8 images and labels 0..K-1 of the target classes: labelled, val, test; class names."""
    import numpy as np

    from dlcc.data import CIFAR10_CLASSES, load_cifar10
    from dlcc.transfer import class_subset, labelled_split

    raw = load_cifar10()
    x, y = class_subset(*raw["train"], cfg.data.classes)
    tx, ty = class_subset(*raw["test"], cfg.data.classes)
    lab, val = labelled_split(y, cfg.transfer.labels, cfg.transfer.val_size, seed=cfg.seed)
    if cfg.data.test_subset:
        keep = np.sort(np.random.default_rng(cfg.seed + 1).permutation(len(ty))[: cfg.data.test_subset])
        tx, ty = tx[keep], ty[keep]
    return {"train": (x[lab], y[lab]), "val": (x[val], y[val]), "test": (tx, ty),
            "classes": [CIFAR10_CLASSES[c] for c in cfg.data.classes]}


def run(cfg: Config, ctx) -> dict:
    from dlcc.data.cifar_gpu import CifarBatches, normalize
    from dlcc.models import whiten_init_
    from dlcc.recipes._classify import test_report
    from dlcc.train import Task, evaluate
    from dlcc.transfer import discriminative_groups, fit_transfer, resolve_backbone_path, transfer_model
    from dlcc.utils.device import choose_device

    t = cfg.transfer
    t.require_backbone()
    if t.mode != "scratch":
        resolve_backbone_path(t.backbone)   # a missing file fails before the data is read
    device = choose_device(ctx.device)
    data = target_data(cfg)
    classes, (x, y) = data["classes"], data["train"]
    augment = {"crop": cfg.data.augment.crop, "pad_mode": cfg.data.augment.pad_mode, "flip": cfg.data.augment.flip,
               "cutout": cfg.data.augment.cutout}
    val = CifarBatches(*data["val"], cfg.eval.batch_size, device=device)
    test = CifarBatches(*data["test"], cfg.eval.batch_size, device=device)

    def init_scratch(backbone: nn.Module) -> None:   # the whitening layer is frozen: set it from the data
        whiten_init_(backbone.whiten, normalize(torch.as_tensor(x).permute(0, 3, 1, 2).contiguous()))

    def make_model() -> nn.Module:
        model, info = transfer_model(t, cfg.model.arch, cfg.model.backbone_config(), len(classes), init_scratch)
        if info is not None:
            ctx.log(f"backbone: {info['path']} ({info['architecture'] or 'weights only'}, {info['source']})")
        return model.to(device)

    def make_task(model: nn.Module, lr: float) -> Task:
        # a ragged last batch is dropped only when there are two full ones or more: with 100 labels
        # and batch 32 that is 3 batches of 32 a shuffled epoch, not a 4-image batch whose
        # BatchNorm statistics would be noise
        train = CifarBatches(x, y, cfg.train.batch_size, shuffle=True, augment=augment, seed=cfg.seed,
                             device=device, drop_last=len(y) > 2 * cfg.train.batch_size)
        factor = t.stage_lr_factor if t.mode == "finetune" else 1.0
        groups = discriminative_groups(model, lr, factor, cfg.train.weight_decay)
        return Task(model, train, None, nn.CrossEntropyLoss(), param_groups=groups, title=f"cifar10-transfer ({t.mode})",
                    artifacts={"classes": classes, "input": preprocessing(), "transfer": {
                        "mode": t.mode, "labels": t.labels, "backbone": t.backbone}})

    def validate(model, info):
        found = evaluate(model, val, nn.CrossEntropyLoss(), device)
        return {"val_accuracy": found["accuracy"], "val_loss": found["loss"]}

    def report(model, info):
        return test_report(model, test, classes, ctx.out_dir, f"cifar10-transfer ({t.mode}, {t.labels} labels)",
                           tta=cfg.eval.tta, top_k=0)

    metrics = fit_transfer(make_model, make_task, cfg.train, ctx, t, seed=cfg.seed, validate=validate, test=report)
    return {**metrics, "mode": t.mode, "labels": t.labels}


RECIPE = Recipe(
    name="cifar10-transfer",
    summary="few labels of unseen CIFAR-10 classes 5-9: scratch, linear probe or fine-tuning of a cifar10-pretrain backbone",
    data="cifar10",
    config=Config,
    run=run,
    build_model=build_model,
    tags=("vision", "transfer"),
    resumable=False,
    lightning=False,
    distributed=False,
)
