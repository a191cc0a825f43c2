"""Recipes `mnist-gan`, `mnist-wgan-gp`, `mnist-cgan`: the course's A5 GANs on MNIST (the
stand-in for Fashion-MNIST, which is not available offline).

Model: the course's PixelShuffle generator and convolutional discriminator
(`dlcc.models.gan`, 1.65 M + 1.64 M parameters); `mnist-cgan` conditions both on the digit
(one-hot appended to z; one discriminator logit per class, read at the sample's class).
Training: `dlcc.generative.GANStep` through the run helper - non-saturating loss with
`gan.d_steps` discriminator steps per generator step, or WGAN-GP (λ = 10, n_critic = 5, a
layer-normalised critic), Adam with β1 = 0.5. Data: MNIST's 60,000 training images scaled to
[-1, 1]; `data.val_size` of them are held out as the reference of `val_fd`, the Fréchet
distance that selects the kept weights.

Evaluation (dlcc.generative.quality, with the shipped MNIST judge): the Fréchet distance of
`eval.samples` generated images to the 10,000 test images, beside the real-vs-real floor (the
held-out training images against the test images) and the collapsed control (one fixed image
per class, repeated); conditional accuracy (mnist-cgan) or class coverage; the
nearest-neighbour copy check against the training images.

Writes: metrics.json (`test_fd`, `test_fd_floor`, `test_fd_collapsed`, `test_fd_ratio`,
`test_cond_accuracy` or `test_class_min_share`, `test_nn_ratio`, `test_near_copy_rate`, ...),
samples.png (a 10 x 10 grid; mnist-cgan: one class per column), samples/step_*.png (the same
noise at every evaluation), nearest_neighbours.png, curves.png, model.pt, checkpoints/.
"""

from __future__ import annotations

from dataclasses import dataclass
import torch

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.generative.settings import GAN_TRAIN, DiscriminatorSettings, GANSettings, check_critic_norm
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.train import TrainConfig

CLASSES = [str(i) for i in range(10)]


@dataclass
class MnistGanData:
    val_size: int = setting(10000, "training images held out as the reference of val_fd (and the floor)", ge=100)
    subset: int | None = setting(None, "train on this many of the remaining training images (null: all)", ge=1)


@dataclass
class GanModel(DiscriminatorSettings):
    conditional: bool = setting(False, "condition generator and discriminator on the digit")


@dataclass
class GanEval:
    samples: int = setting(10000, "generated images scored at the end (Fréchet distance, class scores)", ge=100)
    val_samples: int = setting(2000, "generated images per evaluation for val_fd", ge=100)
    copy_samples: int = setting(1000, "generated images checked for near-copies of training images", ge=10)


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, noise, the split and the data order", ge=0)
    data: MnistGanData = section(MnistGanData)
    model: GanModel = section(GanModel)
    gan: GANSettings = section(GANSettings)
    train: TrainConfig = section(TrainConfig, **GAN_TRAIN)
    eval: GanEval = section(GanEval)

    def check(self, where: str) -> None:
        check_critic_norm(self.gan, self.model)
        if self.model.conditioning == "projection" and not self.model.conditional:
            raise ConfigError("model.conditioning=projection needs model.conditional=true",
                              fix="--set model.conditional=true, or leave model.conditioning=output")


def build_model(cfg: Config, artifacts: dict | None = None) -> torch.nn.ModuleDict:
    """`ModuleDict(G, D[, G_ema])` of the course's generator and discriminator."""
    from dlcc.generative.step import gan_model
    from dlcc.models.gan import Discriminator, Generator

    m = cfg.model
    k = 10 if m.conditional else 0
    outputs = 10 if m.conditional and m.conditioning == "output" else 1
    G = Generator(cfg.gan.latent, 1, k)
    D = Discriminator(28, 28, 1, outputs, m.norm, m.conditioning, k)
    return gan_model(G, D, cfg.gan.ema)


def load_images(d: MnistGanData, seed: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{"train", "val", "test"}: (uint8 images [N, 1, 28, 28], int64 labels [N])."""
    from dlcc.data import load_mnist
    from dlcc.train import split_indices

    data = load_mnist()
    x, y = (torch.from_numpy(a) for a in data["train"])
    train_idx, val_idx = (torch.from_numpy(i) for i in split_indices(len(y), d.val_size, seed=seed))
    if d.subset is not None:
        train_idx = train_idx[: d.subset]
    tx, ty = (torch.from_numpy(a) for a in data["test"])
    return {"train": (x[train_idx, None], y[train_idx]), "val": (x[val_idx, None], y[val_idx]),
            "test": (tx[:, None], ty)}


def run(cfg: Config, ctx: RunContext) -> dict:
    from dlcc.generative import images, quality
    from dlcc.generative.callbacks import SampleSnapshots
    from dlcc.generative.judges import load_judge
    from dlcc.generative.report import image_report
    from dlcc.generative.sampling import generate
    from dlcc.generative.step import GANStep, sampler
    from dlcc.train import EvalMonitor, Task, TensorBatches, make_loader, train_and_report

    data = load_images(cfg.data, cfg.seed)
    conditional, latent = cfg.model.conditional, cfg.gan.latent
    k = 10 if conditional else 0
    per_step = cfg.train.batch_size * (cfg.gan.d_steps if cfg.gan.fresh_real else 1)
    loader = make_loader(TensorBatches(*data["train"]), per_step, shuffle=True, seed=cfg.seed, drop_last=True,
                         transform=lambda batch: (images.to_unit(batch[0]), batch[1]))
    model = build_model(cfg)
    judge = load_judge("mnist")
    name = ctx.name or "mnist-gan"

    def draw(n: int, seed: int = 1):
        return generate(sampler(model), n, latent, k, torch.Generator().manual_seed(seed))[0]

    val_ref = images.to_unit(data["val"][0][: cfg.eval.val_samples])
    monitor = EvalMonitor(quality.fd_monitor(judge, draw, val_ref), key="val_fd")
    snapshots = SampleSnapshots(lambda path, g: images.save_grid(generate(sampler(model), 100, latent, k, g)[0], path),
                                ctx.out_dir / "samples", model)
    task = Task(model, loader, None, None, step=GANStep(model, cfg.gan, cfg.train, conditional),
                callbacks=[monitor, snapshots], title=name,
                artifacts={"classes": CLASSES, "latent": latent, "conditional": conditional,
                           "output": {"shape": [1, 28, 28], "range": [-1, 1]}})
    ctx.log(f"{name}: {len(data['train'][1]):,} training images, {per_step} per step "
            f"({cfg.gan.d_steps} discriminator step(s) per generator step, loss {cfg.gan.loss})")

    def test(model, info):
        return image_report(sampler(model), judge, data, cfg.eval, latent, k, ctx.out_dir, name, ctx.log)

    return train_and_report(task, cfg.train, ctx, test=test)


def _config(loss: str, conditional: bool):
    def make() -> Config:
        cfg = Config()
        cfg.model.conditional = conditional
        if loss == "wgan-gp":     # Gulrajani et al.: n_critic 5, Adam(1e-4, 0.5, 0.9), no batch norm in the critic
            cfg.gan.loss, cfg.gan.d_steps, cfg.model.norm = "wgan-gp", 5, "layer"
            cfg.train.lr, cfg.train.beta2, cfg.train.steps = 1e-4, 0.9, 1000
            cfg.train.eval_every = 200
        return cfg
    return make


RECIPES = [
    Recipe("mnist-gan", "A5: the course's PixelShuffle GAN on MNIST (non-saturating loss, k D steps per G step)",
           "mnist", _config("gan", False), run, build_model, tags=("A5", "generative"), lightning=False),
    Recipe("mnist-wgan-gp", "A5: WGAN-GP on MNIST (lambda 10, n_critic 5, layer-normalised critic)",
           "mnist", _config("wgan-gp", False), run, build_model, tags=("A5", "generative"), lightning=False),
    Recipe("mnist-cgan", "A5: class-conditional GAN on MNIST; conditional accuracy by dlcc's MNIST judge",
           "mnist", _config("gan", True), run, build_model, tags=("A5", "generative"), lightning=False),
]
