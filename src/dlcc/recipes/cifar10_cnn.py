"""`cifar10-cnn`, `cifar10-mobilenet`, `cifar10-resnet`: the course's A3 CIFAR-10 networks.

Data: CIFAR-10 held as uint8 tensors on the training device (`dlcc.data.cifar_gpu`), with
3,000 training images held out for validation and the standard augmentation done a batch at
a time: random crop with 4 pixels of reflect padding and a random horizontal flip (the course
flipped vertically too; upside-down CIFAR images do not occur at test time, so we do not).
Models: the course's small CNN (3,893,290 parameters), its depthwise-separable (MobileNet)
variant (1,377,784) and the small pre-activation ResNet (6,405,066); see `dlcc.models`.

Training follows the course: Adam (betas 0.9/0.999) with L2 weight decay, lr 0.002,
a step schedule (x0.5 every 5 epochs), cross-entropy; the weights of the best validation
epoch are kept. One change for CPUs: batch 128 instead of the course's 2048. A CPU gains much
less per image from large batches than a GPU (there are no idle GPU cores to fill), while
batches of 128 give 16x more optimizer steps per epoch. Measured on 2 CPU cores: the small CNN
reaches test accuracy 0.731 in the default 10 epochs (course target > 0.6; 243 s per epoch with
2 threads; benchmarks/results/cifar10_cnn.md). On a GPU, `--set train.batch_size=2048`
restores the course setting.

Writes metrics.json (`test_accuracy`, `test_loss`, `val_accuracy`, `train_time_s`,
`epoch_time_s`, per-class accuracy, ...), curves.png, confusion.png, top_losses.png,
model.pt and checkpoints/. `--set train.time_budget_s=600` stops training after 600 s of it
and then evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlcc.config import section, setting
from dlcc.recipes._adversarial import Adversarial, adversarial_loader, robust_monitors, robust_report
from dlcc.recipes._cifar import CifarData, CifarEval, check_split, cifar_loaders, monitor_callbacks, \
    preprocessing, report_monitor
from dlcc.recipes.registry import Recipe
from dlcc.train import TrainConfig


@dataclass
class CNNModel:
    name: str = setting("small-cnn", "any image classifier of `dlcc models list`")
    channels_last: bool = setting(True, "channels-last memory layout (faster convolutions on CPU and "
                                         "tensor-core GPUs)")


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, the split, data order and augmentation", ge=0)
    data: CifarData = section(CifarData)
    model: CNNModel = section(CNNModel)
    train: TrainConfig = section(TrainConfig, epochs=10, batch_size=128, optimizer="adam", lr=0.002,
                                 weight_decay=0.0025, schedule="step", step_size=5, gamma=0.5,
                                 select="val_accuracy")
    eval: CifarEval = section(CifarEval)
    adversarial: Adversarial = section(Adversarial)

    def check(self, where: str) -> None:
        from dlcc.errors import ConfigError
        from dlcc.models import get_spec

        spec = get_spec(self.model.name)
        if spec.task != "image classification" or spec.input_shape[0] != 3:
            raise ConfigError(f"model.name={self.model.name} is not a colour-image classifier ({spec.task}, "
                              f"input {spec.input_shape})", fix="e.g. --set model.name=small-resnet "
                                                                "(`dlcc models list` shows them all)")
        check_split(self.data, self.train.select)


def build_model(cfg: Config, artifacts: dict | None = None):
    """The network named by `model.name`, in channels-last layout when configured."""
    import torch

    from dlcc.models import get_model

    model = get_model(cfg.model.name)
    return model.to(memory_format=torch.channels_last) if cfg.model.channels_last else model


def run(cfg: Config, ctx) -> dict:
    from torch import nn

    from dlcc.recipes._classify import test_report
    from dlcc.train import Task, train_and_report
    from dlcc.utils.device import choose_device

    device = choose_device(ctx.device)
    loaders = cifar_loaders(cfg.data, cfg.train.batch_size, cfg.eval.batch_size, cfg.seed, device,
                            cfg.model.channels_last)
    model = build_model(cfg).to(device)
    monitors = monitor_callbacks(model, loaders, cfg.eval, ctx) + robust_monitors(model, loaders, cfg.adversarial,
                                                                                  cfg.seed, ctx)
    title = ctx.name or cfg.model.name
    train = adversarial_loader(loaders["train"], model, cfg.adversarial)
    task = Task(model, train, loaders["val"], nn.CrossEntropyLoss(), callbacks=monitors, title=title,
                artifacts={"classes": loaders["classes"], "input": preprocessing()})

    def test(model, info):
        report = test_report(model, loaders["test"], loaders["classes"], ctx.out_dir, title,
                             images=loaders["test_images"], tta=cfg.eval.tta, top_k=cfg.eval.top_losses)
        robust = robust_report(model, loaders, cfg.adversarial, cfg.seed, ctx.log, monitors)
        return {**report, **report_monitor(monitors), **robust}

    return train_and_report(task, cfg.train, ctx, test=test)


def _config(model: str, weight_decay: float):
    def make() -> Config:
        cfg = Config()
        cfg.model.name, cfg.train.weight_decay = model, weight_decay
        return cfg
    return make


RECIPES = [
    Recipe("cifar10-cnn", "A3(a): the course's small CNN on CIFAR-10, Adam + step schedule (test acc > 0.6)",
           "cifar10", _config("small-cnn", 0.0025), run, build_model, tags=("A3", "vision")),
    Recipe("cifar10-mobilenet", "A3(b): small CNN with depthwise-separable (MobileNet) blocks (test acc > 0.6)",
           "cifar10", _config("small-mobilenet", 0.005), run, build_model, tags=("A3", "vision")),
    Recipe("cifar10-resnet", "A3(c): the course's small pre-activation ResNet on CIFAR-10 (test acc ~0.8)",
           "cifar10", _config("small-resnet", 0.005), run, build_model, tags=("A3", "vision")),
]
