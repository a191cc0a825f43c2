"""`TransferSettings`: the `transfer` section of a transfer-learning recipe.

    transfer.mode=scratch|probe|finetune    how the target task is trained (dlcc.transfer.model)
    transfer.backbone=PATH                  backbone.pt, or the run directory of a pretraining run
    transfer.labels=100                     labelled target examples, balanced over the classes
    transfer.val_size=500                   held-out target examples for choosing the LR
    transfer.stage_lr_factor=0.5            finetune: each earlier stage's LR is this times the next's
    transfer.lr_grid=[...]                  choose train.lr among these on validation (empty: train.lr)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dlcc.config import setting
from dlcc.errors import ConfigError


@dataclass
class TransferSettings:
    mode: Literal["scratch", "probe", "finetune"] = setting(
        "finetune", "scratch (random init), probe (frozen pretrained backbone, new linear head) or finetune "
                    "(everything trains, discriminative LRs)")
    backbone: str = setting("", "pretrained backbone: a backbone.pt file or a cifar10-pretrain run directory "
                                "(probe and finetune)")
    labels: int = setting(100, "labelled training examples of the target classes (balanced over the classes)", ge=1)
    val_size: int = setting(500, "held-out training examples of the target classes: the validation split that "
                                 "lr_grid chooses on (never the test split)", ge=1)
    stage_lr_factor: float = setting(0.5, "finetune: LR of each backbone stage = this × the LR of the stage after "
                                          "it (head at train.lr; 1: one LR everywhere)", gt=0, le=1)
    lr_grid: list[float] = setting([], "train each of these learning rates and keep the one with the best "
                                       "validation accuracy (empty: train.lr only)", gt=0)

    def check(self, where: str) -> None:
        if len(set(self.lr_grid)) != len(self.lr_grid):
            raise ConfigError(f"{where}lr_grid={self.lr_grid} repeats a value", fix="list each learning rate once")

    def require_backbone(self) -> None:
        """Probe and finetune need `backbone` (checked when the run starts, so that `--show`
        works on the defaults)."""
        if self.mode != "scratch" and not self.backbone:
            raise ConfigError(f"transfer.mode={self.mode} needs a pretrained backbone, and transfer.backbone is empty",
                              fix="--set transfer.backbone=RUN_DIR (from `dlcc run cifar10-pretrain --out RUN_DIR`), "
                                  "or --set transfer.mode=scratch")


@dataclass
class BackboneModel:
    """The `model` section: which backbone the run builds (a pretrained file must match it)."""

    arch: Literal["fastnet"] = setting("fastnet", "backbone architecture (dlcc.transfer.ARCHITECTURES)")
    widths: list[int] = setting([32, 64, 128], "fastnet: output channels of the three conv groups", ge=1)
    bn_momentum: float = setting(0.4, "fastnet: BatchNorm momentum (weight of each new batch)", gt=0, le=1)

    def check(self, where: str) -> None:
        if len(self.widths) != 3:
            raise ConfigError(f"{where}widths={self.widths} needs three widths", fix=f"--set {where}widths=[32,64,128]")

    def backbone_config(self) -> dict:
        """The keyword arguments of the backbone's builder (saved in backbone.pt)."""
        return {"widths": list(self.widths), "bn_momentum": self.bn_momentum}
