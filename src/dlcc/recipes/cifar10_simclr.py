"""`cifar10-simclr`: SimCLR on CIFAR-10's training images (labels unused), scored by a linear probe.

Pretraining (`dlcc.contrastive`): the `fastnet` backbone (`dlcc.transfer`; whitening conv
initialised on the images, three conv groups, global max-pool) with a projection head, trained
on the NT-Xent loss of two augmented views per image (per-image random resized crop, flip,
colour jitter, greyscale), through the training loop's custom-step mode - so the time budget,
the CPU clock, the warm-up + cosine schedule, checkpoints and resuming are the loop's.

Evaluation: the frozen backbone's features of the training images fit a logistic regression
(weight decay chosen on `probe.val_fraction` of the training images), scored once on the test
split (`test_accuracy`). The same probe on a randomly initialised backbone of the same
architecture and initialisation (whitening included) is the floor (`random_probe_accuracy`);
`probe_gain` is the difference. Every `train.eval_every` steps a cheaper probe on subsets of
the *training* images (`probe.curve_*`) gives the curve `val_probe_accuracy` (probe.png).

Writes: metrics.json, config.yaml, model.pt (backbone + head), probe.png, curves.png, and
`backbone.pt` - the encoder alone (architecture "fastnet" with its widths, `torch.load(...,
weights_only=True)` reads it; `dlcc.transfer.load_backbone` and `cifar10-transfer
--set transfer.backbone=RUN_DIR` reuse it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.recipes.registry import Recipe
from dlcc.train import TrainConfig
from dlcc.transfer import BackboneModel


@dataclass
class SimCLRData:
    subset: int = setting(0, "pretrain on this many random training images (0: all 50,000)", ge=0)
    test_subset: int = setting(0, "probe-test on this many random test images (0: all 10,000)", ge=0)


@dataclass
class SimCLRSettings:
    temperature: float = setting(0.2, "NT-Xent temperature τ", gt=0)
    head_hidden: int = setting(512, "projection head: hidden units", ge=1)
    head_out: int = setting(128, "projection head: output dimension (the loss's embedding)", ge=1)
    crop_min: float = setting(0.2, "random resized crop: smallest area, as a fraction of the image", gt=0, le=1)
    jitter: float = setting(0.5, "colour jitter strength s (brightness/contrast/saturation 0.8 s, hue 0.2 s)",
                            ge=0, le=1)
    p_jitter: float = setting(0.8, "probability of the colour jitter", ge=0, le=1)
    p_grey: float = setting(0.2, "probability of greyscale", ge=0, le=1)
    whiten: bool = setting(True, "initialise the backbone's first layer to whiten 2x2 patches (no labels used)")
    whiten_images: int = setting(5000, "images for the whitening's patch covariance", ge=1)
    channels_last: bool = setting(True, "channels-last memory layout (faster convolutions on CPU)")


@dataclass
class ProbeSettings:
    val_fraction: float = setting(0.1, "training images held out to choose the probe's weight decay", gt=0, lt=1)
    weight_decays: list[float] = setting([1e-6, 1e-5, 1e-4, 1e-3, 1e-2], "probe weight decays tried", ge=0)
    max_iter: int = setting(200, "L-BFGS iterations per probe fit", ge=1)
    random_baseline: bool = setting(True, "also probe a randomly initialised backbone (the floor)")
    curve_train: int = setting(5000, "training images of the probe at each evaluation (the curve)", ge=10)
    curve_val: int = setting(2000, "other training images that score it", ge=10)
    batch_size: int = setting(1000, "images per feature-extraction batch", ge=1)


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, data order, augmentation and the probe's split", ge=0)
    data: SimCLRData = section(SimCLRData)
    model: BackboneModel = section(BackboneModel)
    simclr: SimCLRSettings = section(SimCLRSettings)
    probe: ProbeSettings = section(ProbeSettings)
    train: TrainConfig = section(TrainConfig, epochs=20, batch_size=256, optimizer="adamw", lr=2e-3,
                                 weight_decay=1e-4, schedule="warmup_cosine", select="last", eval_every=500)

    def check(self, where: str) -> None:
        if self.train.select != "last":
            raise ConfigError(f"train.select={self.train.select}: SimCLR keeps its last weights (nothing to "
                              "select on without labels)", fix="--set train.select=last")


def build_backbone(cfg: Config) -> nn.Module:
    from dlcc.transfer import build_backbone as build

    return build(cfg.model.arch, **cfg.model.backbone_config())


def build_model(cfg: Config, artifacts: dict | None = None) -> nn.Module:
    """`SimCLRModel`: the backbone and its projection head."""
    from dlcc.contrastive import SimCLRModel

    s = cfg.simclr
    return SimCLRModel(build_backbone(cfg), s.head_hidden, s.head_out)


def load_images(cfg: Config) -> dict:
    """{"train": (uint8 [N, 3, 32, 32], labels), "test": (...)}; labels are used by the probe only."""
    from dlcc.data import load_cifar10
    from dlcc.data.cifar_gpu import to_nchw_uint8

    raw = load_cifar10()
    (x, y), (tx, ty) = raw["train"], raw["test"]
    if cfg.data.subset:
        keep = np.sort(np.random.default_rng(cfg.seed).permutation(len(y))[: cfg.data.subset])
        x, y = x[keep], y[keep]
    if cfg.data.test_subset:
        keep = np.sort(np.random.default_rng(cfg.seed + 1).permutation(len(ty))[: cfg.data.test_subset])
        tx, ty = tx[keep], ty[keep]
    if len(y) < 20:
        raise ConfigError(f"SimCLR needs at least 20 training images, got {len(y)}",
                          fix="--set data.subset=0 (all images) or data.subset=1000")
    return {"train": (to_nchw_uint8(x), torch.as_tensor(y, dtype=torch.long)),
            "test": (to_nchw_uint8(tx), torch.as_tensor(ty, dtype=torch.long))}


def _augment(s: SimCLRSettings):
    from dlcc.contrastive import SimCLRAugment

    return SimCLRAugment(crop_scale=(s.crop_min, 1.0), jitter=s.jitter, p_jitter=s.p_jitter, p_grey=s.p_grey)


def fresh_backbone(cfg: Config, images: torch.Tensor) -> nn.Module:
    """A new backbone, its whitening layer initialised on `images` when `simclr.whiten`."""
    from dlcc.data.cifar_gpu import normalize
    from dlcc.models import whiten_init_

    backbone = build_backbone(cfg)
    if cfg.simclr.whiten:
        whiten_init_(backbone.whiten, normalize(images[: cfg.simclr.whiten_images]))
    return backbone


def run(cfg: Config, ctx) -> dict:
    from dlcc.contrastive import SimCLRModel, SimCLRStep, TwoViews, extract_features, probe_accuracy
    from dlcc.data.cifar_gpu import normalize
    from dlcc.train import EvalMonitor, Task, TensorBatches, make_loader, make_optimizer, train_and_report
    from dlcc.transfer import save_backbone

    data = load_images(cfg)
    x, y = data["train"]
    tx, ty = data["test"]
    torch.manual_seed(cfg.seed)
    s, p = cfg.simclr, cfg.probe
    model = SimCLRModel(fresh_backbone(cfg, x), s.head_hidden, s.head_out)
    if s.channels_last:
        model = model.to(memory_format=torch.channels_last)
    b = min(cfg.train.batch_size, len(y))
    loader = make_loader(TensorBatches(x), b, shuffle=True, seed=cfg.seed, drop_last=True)
    optimizer = make_optimizer([q for q in model.parameters() if q.requires_grad], cfg.train)
    step = SimCLRStep(model, TwoViews(_augment(s)), optimizer, s.temperature, s.channels_last)

    def features(encoder, images):
        device = next(encoder.parameters()).device
        return extract_features(encoder, images, lambda t: normalize(t.to(device), channels_last=s.channels_last),
                                p.batch_size)

    # the curve: a probe fitted on curve_train training images, scored on curve_val others
    order = np.random.default_rng(cfg.seed + 2).permutation(len(y))
    c_fit = torch.from_numpy(order[: p.curve_train])
    c_val = torch.from_numpy(order[p.curve_train: p.curve_train + p.curve_val])

    def curve_probe() -> float:
        from dlcc.contrastive import LinearProbe

        h_fit, h_val = features(model.encoder, x[c_fit]), features(model.encoder, x[c_val])
        return LinearProbe(1e-3, p.max_iter).fit(h_fit, y[c_fit], 10).score(h_val, y[c_val])

    monitor = EvalMonitor(curve_probe, key="val_probe_accuracy")
    task = Task(model, loader, None, None, step=step, callbacks=[monitor], title="cifar10-simclr",
                artifacts={"input": {"shape": [3, 32, 32], "scale": 1 / 255}})
    ctx.log(f"cifar10-simclr: {len(y):,} unlabelled training images, {b} per step (2 views each), "
            f"τ={s.temperature}")

    def probe(encoder) -> dict:
        return probe_accuracy(features(encoder, x), y, features(encoder, tx), ty, p.weight_decays,
                              p.val_fraction, cfg.seed, p.max_iter)

    def test(trained, info):
        import time

        start = time.process_time()
        result = probe(trained.encoder)
        out = {"test_accuracy": result["accuracy"], "probe_weight_decay": result["weight_decay"],
               "probe_val_accuracy": result["val_accuracy"]}
        if p.random_baseline:
            torch.manual_seed(cfg.seed)
            random = fresh_backbone(cfg, x)
            floor = probe(random.to(memory_format=torch.channels_last) if s.channels_last else random)
            out.update(random_probe_accuracy=floor["accuracy"], random_probe_weight_decay=floor["weight_decay"],
                       probe_gain=result["accuracy"] - floor["accuracy"])
        out["probe_cpu_time_s"] = time.process_time() - start
        out["probe_curve"] = monitor.points
        _plot_curve(monitor.points, out, ctx.out_dir / "probe.png")
        ctx.log(f"linear probe: test accuracy {out['test_accuracy']:.4f}"
                + (f" (random encoder {out['random_probe_accuracy']:.4f})" if p.random_baseline else ""))
        return out

    metrics = train_and_report(task, cfg.train, ctx, test=test)
    save_backbone(ctx.out_dir / "backbone.pt", model.encoder, cfg.model.arch, cfg.model.backbone_config(),
                  source={"recipe": "cifar10-simclr", "seed": cfg.seed, "method": "simclr"})
    ctx.log(f"backbone saved: {ctx.out_dir / 'backbone.pt'} ({cfg.model.arch}, widths {cfg.model.widths})")
    return {**metrics, "backbone": "backbone.pt"}


def _plot_curve(points: list[dict], metrics: dict, path) -> None:
    """Probe accuracy (on held-out training images) against pretraining seconds, with the final
    test probe and the random-encoder floor as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    if points:
        ax.plot([q["train_time_s"] / 60 for q in points], [q["val_probe_accuracy"] for q in points], "o-",
                label="probe during pretraining (held-out train images)")
    ax.axhline(metrics["test_accuracy"], color="C1", ls="--", label="final probe (test)")
    if "random_probe_accuracy" in metrics:
        ax.axhline(metrics["random_probe_accuracy"], color="C7", ls=":", label="random encoder (test)")
    ax.set_xlabel("pretraining time (min, training clock)")
    ax.set_ylabel("linear-probe accuracy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


RECIPE = Recipe(
    name="cifar10-simclr",
    summary="SimCLR (NT-Xent, two views, projection head) on unlabelled CIFAR-10; linear probe vs a random "
            "encoder; saves backbone.pt",
    data="cifar10",
    config=Config,
    run=run,
    build_model=build_model,
    tags=("vision", "self-supervised", "small-data"),
    lightning=False,
    distributed=False,
    task="self-supervised",
)
