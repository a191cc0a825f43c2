"""`cifar10-fast`: the fastest recipe here to high CIFAR-10 accuracy, airbench-style, tuned for CPUs.

Techniques (after Keller Jordan's airbench / hlb-CIFAR10 and David Page's DAWNBench ResNet),
each kept only if it helped on 2 CPU cores (measurements: docs/vision.md):

- a small fast net (`CifarFastNet`): three conv groups with early max-pooling, GELU, BatchNorm
  with a fixed scale, Dirac-initialised convs and a 1/9 logit scale;
- a frozen first layer initialised to whiten 2×2 patches of the training images (ZCA-style);
  its bias trains for the first `whiten.bias_epochs` epochs only;
- SGD with Nesterov momentum, BatchNorm biases at a 64× higher LR, label smoothing 0.2;
- a triangular LR schedule (warm-up to the peak at 23 %, linear decay to 7 %). With
  `train.time_budget_s` the schedule runs on the clock: it ends exactly when the time is up;
- lookahead with an EMA of the weights whose decay rises during training;
- augmentation on tensors: random crop (2-pixel reflect padding) and *alternating* flips
  (each image is mirrored in every other epoch);
- test-time augmentation: the mean of the logits of each image and its mirror;
- channels-last memory layout (faster oneDNN convolutions on CPU);
- on CUDA only: bf16 autocast, `torch.compile` and cuDNN autotuning (`train.deterministic=false`;
  CPUs skip all three, and CPU runs stay bit-for-bit repeatable).

Trains on all 50,000 training images by default (no validation split, as airbench does;
`--set data.val_size=5000 train.select=val_accuracy` adds one, e.g. for tuning) and reports
the test split once at the end. Writes metrics.json, curves.png, confusion.png,
top_losses.png, model.pt.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dlcc.config import section, setting
from dlcc.recipes._adversarial import Adversarial, adversarial_loader, robust_monitors, robust_report
from dlcc.recipes._cifar import Augment, CifarData, CifarEval, check_split, cifar_loaders, monitor_callbacks, \
    preprocessing, report_monitor
from dlcc.recipes.registry import Recipe
from dlcc.train import Callback, TrainConfig


@dataclass
class FastModel:
    widths: list[int] = setting([64, 128, 256], "output channels of the three conv groups", ge=1)
    bn_momentum: float = setting(0.4, "BatchNorm momentum (weight of each new batch)", gt=0, le=1)
    scale: float = setting(0.1111, "multiplier on the logits", gt=0)
    channels_last: bool = setting(True, "channels-last memory layout")

    def check(self, where: str) -> None:
        from dlcc.errors import ConfigError

        if len(self.widths) != 3:
            raise ConfigError(f"{where}widths={self.widths} needs three widths", fix=f"--set {where}widths=[64,128,256]")


@dataclass
class Whiten:
    enabled: bool = setting(True, "initialise the first layer to whiten 2x2 patches (frozen weights)")
    images: int = setting(5000, "training images used for the patch covariance", ge=1)
    eps: float = setting(0.0005, "added to the eigenvalues", gt=0)
    bias_epochs: int = setting(3, "epochs in which the whitening bias trains", ge=0)


@dataclass
class Lookahead:
    enabled: bool = setting(True, "average the weights (EMA) every few steps and jump back to the average")
    every: int = setting(5, "optimizer steps between averages", ge=1)
    base: float = setting(0.95, "the per-step decay the average reaches at the end", gt=0, lt=1)


@dataclass
class FastTrain(TrainConfig):
    bias_lr_scale: float = setting(64.0, "BatchNorm parameters train at this multiple of lr", gt=0)
    label_smoothing: float = setting(0.2, "label smoothing of the cross-entropy", ge=0, lt=1)


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, data order and augmentation", ge=0)
    data: CifarData = section(CifarData, val_size=0, augment=Augment(crop=2, flip="alternate"))
    model: FastModel = section(FastModel)
    whiten: Whiten = section(Whiten)
    lookahead: Lookahead = section(Lookahead)
    train: FastTrain = section(FastTrain, epochs=8, batch_size=512, optimizer="sgd", lr=0.75, momentum=0.85,
                               nesterov=True, weight_decay=0.00133, schedule="triangle", pct_start=0.23,
                               start_factor=0.2, end_factor=0.07, select="last", deterministic=False)
    eval: CifarEval = section(CifarEval, tta=True)
    adversarial: Adversarial = section(Adversarial)

    def check(self, where: str) -> None:
        check_split(self.data, self.train.select)


class WhitenBiasWindow(Callback):
    """Train the whitening layer's bias only in the first `epochs` epochs (airbench does the
    same: it shifts the input statistics early, and then stays put)."""

    def __init__(self, conv: nn.Conv2d, epochs: int):
        self.conv, self.epochs = conv, int(epochs)

    def on_epoch_start(self, trainer, epoch):
        if self.conv.bias is not None:
            self.conv.bias.requires_grad_(epoch <= self.epochs)


def param_groups(model: nn.Module, t: FastTrain) -> list[dict]:
    """Two groups: BatchNorm parameters at `bias_lr_scale`× the LR (and the weight decay divided
    by the same factor, so both groups decay equally per step), and the rest. The main group
    first: the loop logs the LR of param_groups[0]."""
    norm = [p for n, p in model.named_parameters() if ".bn" in n and p.requires_grad]
    other = [p for n, p in model.named_parameters() if ".bn" not in n and p.requires_grad]
    return [{"params": other, "lr": t.lr, "weight_decay": t.weight_decay},
            {"params": norm, "lr": t.lr * t.bias_lr_scale, "weight_decay": t.weight_decay / t.bias_lr_scale}]


def build_model(cfg: Config, artifacts: dict | None = None) -> nn.Module:
    from dlcc.models import CifarFastNet

    m = cfg.model
    model = CifarFastNet(widths=tuple(m.widths), scale=m.scale, bn_momentum=m.bn_momentum)
    if not cfg.whiten.enabled:   # an ordinary trainable first layer
        model.whiten.weight.requires_grad_(True)
    return model.to(memory_format=torch.channels_last) if m.channels_last else model


def run(cfg: Config, ctx) -> dict:
    from dlcc.data.cifar_gpu import normalize
    from dlcc.models import whiten_init_
    from dlcc.recipes._classify import test_report
    from dlcc.train import Lookahead as LookaheadCallback
    from dlcc.train import Task, train_and_report
    from dlcc.utils.device import choose_device

    device = choose_device(ctx.device)
    loaders = cifar_loaders(cfg.data, cfg.train.batch_size, cfg.eval.batch_size, cfg.seed, device,
                            cfg.model.channels_last)
    model = build_model(cfg).to(device)
    if cfg.whiten.enabled:
        whiten_init_(model.whiten, normalize(loaders["train"].images[: cfg.whiten.images]), eps=cfg.whiten.eps)
    callbacks: list[Callback] = []
    if cfg.whiten.enabled:
        callbacks.append(WhitenBiasWindow(model.whiten, cfg.whiten.bias_epochs))
    if cfg.lookahead.enabled:   # the average follows training's progress (steps, or the clock)
        callbacks.append(LookaheadCallback(every=cfg.lookahead.every, base=cfg.lookahead.base))
    monitors = monitor_callbacks(model, loaders, cfg.eval, ctx) + robust_monitors(model, loaders, cfg.adversarial,
                                                                                  cfg.seed, ctx)
    train = adversarial_loader(loaders["train"], model, cfg.adversarial)
    task = Task(model, train, loaders["val"], nn.CrossEntropyLoss(label_smoothing=cfg.train.label_smoothing),
                param_groups=param_groups(model, cfg.train), callbacks=callbacks + monitors, title="cifar10-fast",
                artifacts={"classes": loaders["classes"], "input": preprocessing()})

    def test(model, info):
        report = test_report(model, loaders["test"], loaders["classes"], ctx.out_dir, "cifar10-fast",
                             images=loaders["test_images"], tta=cfg.eval.tta, top_k=cfg.eval.top_losses)
        robust = robust_report(model, loaders, cfg.adversarial, cfg.seed, ctx.log, monitors)
        return {**report, **report_monitor(monitors), **robust}

    return train_and_report(task, cfg.train, ctx, test=test)


RECIPE = Recipe(
    name="cifar10-fast",
    summary="fastest CIFAR-10 recipe on CPU: airbench-style net, whitening, lookahead, flip TTA "
            "(0.873 in 10 min on 2 cores)",
    data="cifar10",
    config=Config,
    run=run,
    build_model=build_model,
    tags=("vision", "benchmark"),
)
