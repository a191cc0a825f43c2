"""`cifar10-fast`: the fastest recipe here to high CIFAR-10 accuracy, airbench-style, tuned for CPUs.

Techniques (after Keller Jordan's airbench / hlb-CIFAR10 and David Page's DAWNBench ResNet),
each kept only if it helped on 2 CPU cores (measurements: docs/vision.md):

- a small fast net (`CifarFastNet`): three conv groups with early max-pooling, GELU, BatchNorm
  with a fixed scale, Dirac-initialised convs and a 1/9 logit scale;
- a frozen first layer initialised to whiten 2×2 patches of the training images (ZCA-style);
  its bias trains for the first `whiten.bias_epochs` epochs only;
- SGD with Nesterov momentum, BatchNorm biases at a 64× higher LR, label smoothing 0.2;
- a triangular LR schedule (warm-up to the peak at 23 %, linear decay to 7 %). With
  `time_budget_s` the schedule runs on the clock: it ends exactly when the time is up;
- lookahead with an EMA of the weights whose decay rises during training;
- augmentation on tensors: random crop (2-pixel reflect padding) and *alternating* flips
  (each image is mirrored in every other epoch);
- test-time augmentation: the mean of the logits of each image and its mirror;
- channels-last memory layout (faster oneDNN convolutions on CPU);
- on CUDA only: bf16 autocast and `torch.compile` (both slow a CPU down, so CPUs skip them).

Trains on all 50,000 training images by default (no validation split, as airbench does;
`--set val_size=5000 select=val_accuracy` adds one, e.g. for tuning) and reports the test
split once at the end. Writes metrics.json, curves.png, confusion.png, top_losses.png.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcc.errors import ConfigError
from dlcc.recipes._vision_callbacks import Lookahead, ProgressSchedule, TrainClock, triangle
from dlcc.recipes._vision_classify import check_classifier_config, cifar_loaders, train_classifier
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import Callback

DEFAULTS = {
    "seed": 0,
    "epochs": 8,                       # with time_budget_s: an upper limit
    "batch_size": 512,
    "val_size": 0,
    "subset": 0,
    "test_subset": 0,
    "time_budget_s": 0.0,              # >0: the schedule ends, and training stops, after this many seconds
    "time_budget_clock": "wall",       # wall | cpu (process CPU time / threads, for shared machines)
    "model": {"widths": [64, 128, 256], "bn_momentum": 0.4, "scale": 0.1111},
    "optimizer": {"lr": 0.75, "momentum": 0.85, "nesterov": True, "weight_decay": 0.00133,
                  "bias_lr_scale": 64.0},
    "schedule": {"start": 0.2, "peak_at": 0.23, "end": 0.07},
    "label_smoothing": 0.2,
    "lookahead": {"enabled": True, "every": 5, "base": 0.95},
    "whiten": {"enabled": True, "images": 5000, "eps": 0.0005, "bias_epochs": 3},
    "augment": {"crop": 2, "pad_mode": "reflect", "flip": "alternate", "cutout": 0},
    "channels_last": True,
    "compile": "auto",                 # auto: torch.compile on CUDA only; true | false
    "amp": "auto",                     # bf16 autocast on CUDA only
    "select": "last",                  # last | val_accuracy | val_loss
    "early_stopping": {"patience": 0, "min_delta": 0.0},
    "checkpoint_every": 1,
    "eval": {"batch_size": 1000, "tta": True, "monitor_test": False, "monitor_every_steps": 0},
    "figures": {"top_losses": 16},
}


class WhitenBiasWindow(Callback):
    """Train the whitening layer's bias only in the first `epochs` epochs (airbench does the
    same: it shifts the input statistics early, and then stays put)."""

    def __init__(self, conv: nn.Conv2d, epochs: int):
        self.conv, self.epochs = conv, int(epochs)

    def on_epoch_start(self, trainer, epoch):
        if self.conv.bias is not None:
            self.conv.bias.requires_grad_(epoch <= self.epochs)


def make_optimizer(model: nn.Module, o: dict) -> torch.optim.SGD:
    """SGD (Nesterov) with two groups: BatchNorm parameters at `bias_lr_scale`× the LR (and the
    weight decay divided by the same factor, so both groups decay equally per step), the rest."""
    lr, wd, scale = float(o["lr"]), float(o["weight_decay"]), float(o["bias_lr_scale"])
    if lr <= 0 or wd < 0 or scale <= 0:
        raise ConfigError(f"optimizer.lr and optimizer.bias_lr_scale must be > 0 and weight_decay >= 0; got "
                          f"lr={lr}, bias_lr_scale={scale}, weight_decay={wd}", fix="e.g. --set optimizer.lr=0.75")
    norm = [p for n, p in model.named_parameters() if ".bn" in n and p.requires_grad]
    other = [p for n, p in model.named_parameters() if ".bn" not in n and p.requires_grad]
    # the main group first: the loop logs the LR of param_groups[0]
    return torch.optim.SGD([{"params": other, "lr": lr, "weight_decay": wd},
                            {"params": norm, "lr": lr * scale, "weight_decay": wd / scale}],
                           lr=lr, momentum=float(o["momentum"]), nesterov=bool(o["nesterov"]))


def run(cfg: dict, ctx: RunContext) -> dict:
    from dlcc.data.cifar_gpu import normalize
    from dlcc.models import CifarFastNet, whiten_init_
    from dlcc.utils.device import choose_device

    check_classifier_config(cfg)
    if cfg["compile"] not in ("auto", True, False):
        raise ConfigError(f"compile={cfg['compile']!r}: expected auto, true or false", fix="--set compile=auto")
    device = choose_device(ctx.device)
    loaders = cifar_loaders(cfg, device, channels_last=bool(cfg["channels_last"]))
    m = cfg["model"]
    model = CifarFastNet(widths=tuple(int(w) for w in m["widths"]), scale=float(m["scale"]),
                         bn_momentum=float(m["bn_momentum"])).to(device)
    w = cfg["whiten"]
    if w["enabled"]:
        images = loaders["train"].images[: int(w["images"])]
        whiten_init_(model.whiten, normalize(images), eps=float(w["eps"]))
    else:  # an ordinary trainable first layer
        model.whiten.weight.requires_grad_(True)
    if cfg["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    if device.type == "cuda" and cfg["compile"] in ("auto", True):
        model.compile()   # in place: the state-dict keys stay the same
    elif cfg["compile"] is True:
        ctx.log("cifar10-fast: compile=true ignored on CPU (it slows CPU training down)")

    optimizer = make_optimizer(model, cfg["optimizer"])
    budget = float(cfg["time_budget_s"]) or None
    clock = TrainClock(budget, str(cfg["time_budget_clock"]))
    s = cfg["schedule"]
    total = int(cfg["epochs"]) * len(loaders["train"])
    schedule = ProgressSchedule(lambda p: triangle(p, float(s["start"]), float(s["peak_at"]), float(s["end"])),
                                total, clock)
    callbacks: list[Callback] = [schedule]
    if w["enabled"]:
        callbacks.append(WhitenBiasWindow(model.whiten, int(w["bias_epochs"])))
    la = cfg["lookahead"]
    if la["enabled"]:
        callbacks.append(Lookahead(schedule, every=int(la["every"]), base=float(la["base"])))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=float(cfg["label_smoothing"]))
    return train_classifier(cfg, ctx, model, loaders, "cifar10-fast", optimizer=optimizer, loss_fn=loss_fn,
                            callbacks=callbacks, clock=clock, tta=bool(cfg["eval"]["tta"]))


RECIPE = Recipe(
    name="cifar10-fast",
    summary="fastest CIFAR-10 recipe on CPU: airbench-style net, whitening, lookahead, flip TTA (~0.9 in minutes)",
    data="cifar10",
    defaults=DEFAULTS,
    run=run,
    tags=("vision", "benchmark"),
)
