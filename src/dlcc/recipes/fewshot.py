"""Recipes `mnist-protonet`, `cifar10-protonet`, `mnist-maml`: meta-learning on classes never
seen in meta-training (docs/fewshot.md).

Split by class: episodes for meta-training come from the training images of
`data.train_classes` (MNIST digits 0-4; CIFAR-10 airplane, automobile, bird, cat, deer); test
episodes from the test images of `data.test_classes` (digits 5-9; dog, frog, horse, ship,
truck), which the network never saw. Validation episodes (`val_accuracy`, a monitor; nothing
is selected on it by default) come from the test images of the meta-training classes.

Model: Conv-4 (`dlcc.models.conv4`, width `model.width`). ProtoNet trains the embedding on
the episode loss (`dlcc.fewshot.protonet`); MAML learns Conv-4 plus an N-way head as an
initialisation, adapted per task by `maml.inner_steps` SGD steps (`maml.second_order` for full
second-order MAML; first-order by default). Training is step-based: each step is
`fewshot.tasks_per_step` episodes.

Metrics (metrics.json): `test_accuracy` and `test_ci95` (1.96 std / sqrt(n) over
`fewshot.test_episodes` episodes, 1,000 by default), `test_episodes`, `test_ways`,
`test_shots`, `val_accuracy`, and the run helper's times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import TrainConfig

# per-channel pixel statistics (of the full training sets), for normalising inputs
STATS = {"mnist": ([0.1307], [0.3081]), "cifar10": ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])}


@dataclass
class FewShotData:
    train_classes: list[int] = setting([0, 1, 2, 3, 4], "classes of the meta-training episodes (training images)",
                                       ge=0, le=9)
    test_classes: list[int] = setting([5, 6, 7, 8, 9], "held-out classes of the test episodes (test images)",
                                      ge=0, le=9)
    per_class: int | None = setting(None, "meta-train on only this many images per class (null: all)", ge=1)
    augment: bool = setting(False, "random crops (pad 4) and horizontal flips of training episodes (for CIFAR-10; "
                                            "flips do not suit digits)")
    rotations: int = setting(1, "meta-train on each training class turned by 0, 90, 180, 270 degrees (the first "
                                "this many), each turn a class of its own: more classes to learn general features "
                                "from (1: off; the Omniglot practice of Vinyals et al. and Snell et al.)", ge=1, le=4)

    def check(self, where: str) -> None:
        shared = sorted(set(self.train_classes) & set(self.test_classes))
        if shared:
            raise ConfigError(f"{where}train_classes and {where}test_classes share {shared}: test classes must be "
                              "unseen in meta-training", fix=f"remove {shared} from one of the two lists")


@dataclass
class FewShotSettings:
    ways: int = setting(5, "N: classes per episode (training and test)", ge=2)
    train_ways: int | None = setting(None, "classes per meta-training episode (null: ways); ProtoNet only. Snell et "
                                           "al. train with more ways than they test", ge=2)
    shots: int = setting(5, "K: labelled support examples per class", ge=1)
    queries: int = setting(15, "query examples per class, scored in each episode", ge=1)
    tasks_per_step: int = setting(1, "episodes per optimizer step (the meta-batch)", ge=1)
    val_episodes: int = setting(200, "episodes per validation (the same ones each time)", ge=1)
    test_episodes: int = setting(1000, "test episodes for test_accuracy and its 95% interval", ge=1)


@dataclass
class Conv4Settings:
    width: int = setting(64, "channels of each conv block", ge=1)
    depth: int = setting(4, "conv blocks, each halving the image: 4 pools 28x28 MNIST to 1x1 (a `width`-long "
                            "embedding), 3 keep a 3x3 map (9 x `width`)", ge=1, le=5)


@dataclass
class MAMLSettings:
    second_order: bool = setting(False, "full MAML: differentiate through the inner gradients (Hessian-vector "
                                        "products); false: first-order MAML")
    inner_steps: int = setting(5, "SGD steps on the support set per task during meta-training", ge=1)
    inner_lr: float = setting(0.4, "the inner SGD step size (alpha)", gt=0)
    test_inner_steps: int = setting(10, "SGD steps on the support set per test episode", ge=1)


def image_shape(cfg) -> tuple[int, int]:
    """(channels, side) of the recipe's square images: CIFAR-10 3 x 32, MNIST 1 x 28."""
    return (3, 32) if cfg.DATASET == "cifar10" else (1, 28)


def _check_episodes_and_depth(cfg) -> None:
    d, f = cfg.data, cfg.fewshot
    side = image_shape(cfg)[1]
    if side >> cfg.model.depth == 0:
        raise ConfigError(f"model.depth={cfg.model.depth} halves the {side}x{side} images to nothing",
                          fix=f"--set model.depth={side.bit_length() - 1} (or fewer)")
    for name, classes in (("train_classes", d.train_classes), ("test_classes", d.test_classes)):
        if f.ways > len(set(classes)):
            raise ConfigError(f"fewshot.ways={f.ways} asks for {f.ways} classes per episode, but data.{name} has "
                              f"{len(set(classes))} ({sorted(set(classes))})",
                              fix=f"--set fewshot.ways={len(set(classes))} (or fewer), or list more classes in data.{name}")
    if f.train_ways is None:
        return
    if isinstance(cfg, MAMLConfig) and f.train_ways != f.ways:
        raise ConfigError(f"fewshot.train_ways={f.train_ways} differs from fewshot.ways={f.ways}, but MAML's head has "
                          "one output per way, the same in meta-training and at test time",
                          fix=f"--set fewshot.train_ways=null (or {f.ways})")
    have = len(set(d.train_classes)) * d.rotations
    if f.train_ways > have:
        raise ConfigError(f"fewshot.train_ways={f.train_ways} asks for {f.train_ways} classes per meta-training "
                          f"episode, but there are {have} ({len(set(d.train_classes))} data.train_classes x "
                          f"data.rotations={d.rotations})",
                          fix=f"--set fewshot.train_ways={have} (or fewer), or raise data.rotations")


PROTO_TRAIN = dict(epochs=None, steps=2000, eval_every=500, optimizer="adam", lr=1e-3, schedule="cosine",
                   end_factor=0.05, select="last")


@dataclass
class ProtoConfig:
    DATASET: ClassVar[str] = "mnist"
    seed: int = setting(0, "seed for weights, episodes and augmentation", ge=0)
    # five digits are few classes to learn general stroke features from: each turned digit is a
    # class of its own (20 in all), and meta-training episodes are 20-way (chosen before any
    # run on the test digits, after Snell et al.; docs/fewshot.md has the measured effect)
    data: FewShotData = section(FewShotData, rotations=4)
    fewshot: FewShotSettings = section(FewShotSettings, train_ways=20)
    model: Conv4Settings = section(Conv4Settings)
    train: TrainConfig = section(TrainConfig, **dict(PROTO_TRAIN, steps=1000, eval_every=250))

    def check(self, where: str) -> None:
        _check_episodes_and_depth(self)


@dataclass
class CifarProtoConfig(ProtoConfig):
    DATASET: ClassVar[str] = "cifar10"
    data: FewShotData = section(FewShotData, augment=True)
    fewshot: FewShotSettings = section(FewShotSettings)
    train: TrainConfig = section(TrainConfig, **dict(PROTO_TRAIN, steps=3000))


@dataclass
class MAMLConfig:
    DATASET: ClassVar[str] = "mnist"
    seed: int = setting(0, "seed for weights, episodes and augmentation", ge=0)
    data: FewShotData = section(FewShotData)
    fewshot: FewShotSettings = section(FewShotSettings, shots=1, tasks_per_step=4)
    model: Conv4Settings = section(Conv4Settings, width=32)
    maml: MAMLSettings = section(MAMLSettings)
    train: TrainConfig = section(TrainConfig, **dict(PROTO_TRAIN, steps=1000, eval_every=250))

    def check(self, where: str) -> None:
        _check_episodes_and_depth(self)


def build_model(cfg, artifacts: dict | None = None) -> torch.nn.Module:
    """ProtoNet: the Conv-4 embedding; MAML: Conv-4 with an N-way head."""
    from dlcc.models.conv4 import Conv4, Conv4Classifier

    channels, side = image_shape(cfg)
    if isinstance(cfg, MAMLConfig):
        return Conv4Classifier(channels, (side, side), cfg.fewshot.ways, cfg.model.width, cfg.model.depth)
    return Conv4(channels, cfg.model.width, cfg.model.depth)


def rotated_classes(d: FewShotData) -> list[int]:
    """The meta-training labels: class c turned by r quarter turns is c + 10 r (both data sets have
    10 classes, so the labels never collide); just `d.train_classes` when `d.rotations` is 1."""
    return [c + 10 * r for r in range(d.rotations) for c in d.train_classes]


def load_pools(name: str, d: FewShotData, seed: int) -> dict[str, tuple[Tensor, Tensor]]:
    """{"train", "val", "test"}: (uint8 images [M, C, H, W], labels [M]) restricted to their classes.

    With `d.rotations` > 1 the training pool also holds every image turned by 90, 180, ...
    degrees, labelled as in `rotated_classes` (the memory grows by that factor)."""
    import dlcc.data

    raw = dlcc.data.load_cifar10() if name == "cifar10" else dlcc.data.load_mnist()

    def pick(split: str, classes: list[int], per_class: int | None = None):
        x, y = (torch.from_numpy(a) for a in raw[split])
        x = x.permute(0, 3, 1, 2) if x.ndim == 4 else x[:, None]
        keep = torch.isin(y, torch.tensor(classes))
        if per_class is not None:   # the first per_class of each class, in a seeded order
            order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
            rank = torch.zeros(len(y), dtype=torch.long)
            for c in classes:
                members = order[y[order] == c]
                rank[members] = torch.arange(len(members))
            keep &= rank < per_class
        return x[keep], y[keep]

    x, y = pick("train", d.train_classes, d.per_class)
    x = torch.cat([torch.rot90(x, r, (2, 3)) for r in range(d.rotations)])
    y = torch.cat([y + 10 * r for r in range(d.rotations)])
    return {"train": (x, y), "val": pick("test", d.train_classes), "test": pick("test", d.test_classes)}


def pixel_transform(name: str, augment: bool):
    """uint8 `[B, C, H, W]` -> normalised float32; with `augment`, a random crop of the image padded
    by 4 (reflect) and a horizontal flip per image (global torch RNG, saved in checkpoints)."""
    mean, std = (torch.tensor(v).view(1, -1, 1, 1) for v in STATS[name])

    def transform(x: Tensor) -> Tensor:
        x = (x.float() / 255 - mean) / std
        if augment:
            n, _, h, w = x.shape
            padded = torch.nn.functional.pad(x, (4, 4, 4, 4), mode="reflect")
            dy, dx = torch.randint(0, 9, (2, n))
            x = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
            flip = torch.rand(n) < 0.5
            x[flip] = x[flip].flip(-1)
        return x
    return transform


def run(cfg, ctx: RunContext) -> dict:
    from functools import partial

    from dlcc.fewshot import (EpisodeSampler, MAMLStep, ProtoNetStep, TaskBatches, evaluate_episodes, maml_predict,
                              protonet_predict)
    from dlcc.train import EvalMonitor, Task, train_and_report

    name = cfg.DATASET
    pools = load_pools(name, cfg.data, cfg.seed)
    f = cfg.fewshot
    plain = pixel_transform(name, False)

    def sampler(split: str, seed: int, classes: list[int], transform=plain, ways: int | None = None) -> EpisodeSampler:
        return EpisodeSampler(*pools[split], classes, ways or f.ways, f.shots, f.queries, seed=seed,
                              transform=transform, where="fewshot.")

    # built once here so that a request the data cannot fill fails before training starts
    train = TaskBatches(sampler("train", cfg.seed, rotated_classes(cfg.data), pixel_transform(name, cfg.data.augment),
                                f.train_ways), f.tasks_per_step)
    sampler("val", 0, cfg.data.train_classes)
    sampler("test", 0, cfg.data.test_classes)
    model = build_model(cfg)
    if isinstance(cfg, MAMLConfig):
        m = cfg.maml
        step = MAMLStep(model, cfg.train, m.inner_steps, m.inner_lr, m.second_order)
        predict = partial(maml_predict, steps=m.test_inner_steps, lr=m.inner_lr)
        method = f"{'second' if m.second_order else 'first'}-order MAML, {m.inner_steps} inner steps of {m.inner_lr:g}"
    else:
        step, predict, method = ProtoNetStep(model, cfg.train), protonet_predict, "prototypical network"

    def device():
        return next(model.parameters()).device

    # the same validation episodes at every evaluation (a fresh sampler with a fixed seed)
    monitor = EvalMonitor(lambda: evaluate_episodes(model, predict, sampler("val", 1, cfg.data.train_classes),
                                                    f.val_episodes, device())["accuracy"], key="val_accuracy")
    title = ctx.name or ("mnist-maml" if isinstance(cfg, MAMLConfig) else f"{name}-protonet")
    task = Task(model, train, None, None, step=step, callbacks=[monitor], title=title,
                artifacts={"dataset": name, "ways": f.ways, "shots": f.shots, "train_classes": cfg.data.train_classes,
                           "test_classes": cfg.data.test_classes, "normalise": STATS[name]})
    turns = f" x {cfg.data.rotations} rotations" if cfg.data.rotations > 1 else ""
    ctx.log(f"{title}: {method}; {f.ways}-way {f.shots}-shot, {f.queries} queries per class, "
            f"{f.tasks_per_step} episode(s) per step{f', {f.train_ways}-way in meta-training' if f.train_ways else ''}; "
            f"meta-train classes {cfg.data.train_classes}{turns} ({len(pools['train'][1]):,} images), "
            f"test classes {cfg.data.test_classes}")

    def test(model, info):
        out = evaluate_episodes(model, predict, sampler("test", 2, cfg.data.test_classes), f.test_episodes, device())
        ctx.log(f"test: {f.ways}-way {f.shots}-shot accuracy {out['accuracy']:.4f} ± {out['ci95']:.4f} "
                f"(95% CI, {out['episodes']} episodes of unseen classes {cfg.data.test_classes})")
        return {"test_accuracy": out["accuracy"], "test_ci95": out["ci95"], "test_episodes": out["episodes"],
                "test_ways": f.ways, "test_shots": f.shots}

    return train_and_report(task, cfg.train, ctx, test=test)


RECIPES = [
    Recipe("mnist-protonet", "prototypical network, 5-way 5-shot on MNIST digits 5-9 after meta-training on 0-4",
           "mnist", ProtoConfig, run, build_model, tags=("meta-learning", "small-data"), task="few-shot",
           lightning=False, distributed=False),
    Recipe("cifar10-protonet", "prototypical network, 5-way 5-shot on CIFAR-10 classes 5-9 after meta-training on 0-4",
           "cifar10", CifarProtoConfig, run, build_model, tags=("meta-learning", "small-data"), task="few-shot",
           lightning=False, distributed=False),
    Recipe("mnist-maml", "MAML (first-order; --set maml.second_order=true for full MAML), 5-way 1-shot on MNIST 5-9",
           "mnist", MAMLConfig, run, build_model, tags=("meta-learning", "small-data"), task="few-shot",
           lightning=False, distributed=False),
]
