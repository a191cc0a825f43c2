"""Recipe `ecg-beat-gan`: a class-conditional 1-D GAN that generates MIT-BIH heartbeats,
normal or ventricular (premature ventricular contractions).

Data (`dlcc.signals.beats`): every N and V beat of lead MLII of the MIT-BIH records (about
29,700 and 4,700 in the 16 records), 256 samples (0.71 s) around the annotated R peak, from a
high-passed, z-scored lead. `data.holdout` of the beats (seeded) are kept from training as the
yardstick of the copy check; the ventricular beats are repeated so that both classes are
trained on equally often.

Model and training: `dlcc.models.gan1d` (the course's PixelShuffle generator and
convolutional discriminator in 1-D), trained by `dlcc.generative.GANStep` like mnist-cgan.

Evaluation (dlcc.generative.quality, with the shipped beat judge, a normal-vs-ventricular
classifier trained on other data splits): per class, the Fréchet distance of generated beats
to the real beats - all real beats of the class take part: they are split in two random halves,
one the reference, the other the real-vs-real floor, and the generator's beats and the collapsed
control (one real beat repeated) are as many as the floor's; the conditional accuracy (the
share of beats generated as class c that the judge labels c); and the nearest-neighbour copy
check against the training beats.

Writes: metrics.json (`test_cond_accuracy`, `test_fd_normal`, `test_fd_floor_normal`,
`test_fd_collapsed_normal`, the same for `ventricular`, `test_nn_ratio`,
`test_near_copy_rate`, ...), beats.png (real and generated beats of each class),
samples/step_*.png (the same noise at every evaluation), curves.png, model.pt, checkpoints/.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
import torch

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.generative.settings import GAN_TRAIN, DiscriminatorSettings, GANSettings, check_critic_norm
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.signals.beats import CLASS_NAMES
from dlcc.train import TrainConfig

BEFORE, LENGTH = 90, 256       # the beat window the judge was trained on


@dataclass
class BeatData:
    records: list[str] | None = setting(None, "MIT-BIH records to take beats from (null: all 16)")
    holdout: float = setting(0.1, "share of the beats kept from training, the yardstick of the copy check", gt=0, lt=1)

    def check(self, where: str) -> None:
        if self.records is not None and not self.records:
            raise ConfigError(f"{where}records is empty", fix=f"--set {where}records=null (all records)")


@dataclass
class BeatEval:
    val_samples: int = setting(1000, "generated and real beats per class for val_fd", ge=100)
    copy_samples: int = setting(1000, "generated beats checked for near-copies of training beats", ge=10)
    plot_beats: int = setting(8, "beats drawn per class in beats.png", ge=1)


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, noise, the hold-out and the data order", ge=0)
    data: BeatData = section(BeatData)
    model: DiscriminatorSettings = section(DiscriminatorSettings)
    gan: GANSettings = section(GANSettings)
    train: TrainConfig = section(TrainConfig, **GAN_TRAIN)
    eval: BeatEval = section(BeatEval)

    def check(self, where: str) -> None:
        check_critic_norm(self.gan, self.model)


def build_model(cfg: Config, artifacts: dict | None = None) -> torch.nn.ModuleDict:
    from dlcc.generative.step import gan_model
    from dlcc.models.gan1d import BeatDiscriminator, BeatGenerator

    k = len(CLASS_NAMES)
    outputs = k if cfg.model.conditioning == "output" else 1
    return gan_model(BeatGenerator(cfg.gan.latent, k, LENGTH),
                     BeatDiscriminator(LENGTH, outputs, cfg.model.norm, cfg.model.conditioning, k), cfg.gan.ema)


def run(cfg: Config, ctx: RunContext) -> dict:
    from dlcc.generative import quality
    from dlcc.generative.callbacks import SampleSnapshots
    from dlcc.generative.figures import plot_beats
    from dlcc.generative.judges import load_judge
    from dlcc.generative.report import beat_report
    from dlcc.generative.sampling import generate
    from dlcc.generative.step import GANStep, sampler
    from dlcc.signals.beats import balanced_indices, load_beats
    from dlcc.train import EvalMonitor, LambdaCallback, Task, TensorBatches, make_loader, train_and_report

    beats = load_beats(cfg.data.records, "MLII", BEFORE, LENGTH - BEFORE)
    missing = [name for c, name in enumerate(CLASS_NAMES) if not (beats.y == c).any()]
    if missing:
        raise ConfigError(f"data.records={cfg.data.records} hold no {' or '.join(missing)} beats",
                          fix="add records with ventricular beats, e.g. 106, 119, 200, 208, 233")
    rng = np.random.default_rng(cfg.seed)
    held = np.zeros(len(beats), bool)
    held[rng.choice(len(beats), max(1, int(round(cfg.data.holdout * len(beats)))), replace=False)] = True
    train = beats.select(~held)
    order = balanced_indices(train.y, cfg.seed)
    x = torch.from_numpy(train.x[order]).unsqueeze(1)
    y = torch.from_numpy(train.y[order])
    per_step = cfg.train.batch_size * (cfg.gan.d_steps if cfg.gan.fresh_real else 1)
    loader = make_loader(TensorBatches(x, y), per_step, shuffle=True, seed=cfg.seed, drop_last=True)
    model = build_model(cfg)
    judge = load_judge("beats")
    latent, k, name = cfg.gan.latent, len(CLASS_NAMES), ctx.name or "ecg-beat-gan"
    real = {c: torch.from_numpy(beats.x[beats.y == c]).unsqueeze(1) for c in range(k)}

    def draw(c: int, n: int, seed: int = 1) -> torch.Tensor:
        return generate(sampler(model), n, latent, k, torch.Generator().manual_seed(seed + c),
                        labels=torch.full((n,), c))[0]

    monitors = [EvalMonitor(quality.fd_monitor(judge, lambda n, c=c: draw(c, n), real[c][:cfg.eval.val_samples]),
                            key=f"val_fd_{CLASS_NAMES[c]}") for c in range(k)]
    keys = [m.key for m in monitors]      # val_fd (selection): the mean over the classes
    mean_fd = LambdaCallback(on_eval=lambda t, row: row.__setitem__("val_fd", float(np.mean([row[k] for k in keys]))))

    def snapshot(path, g):
        shown = {CLASS_NAMES[c]: real[c][:cfg.eval.plot_beats, 0].numpy() for c in range(k)}
        made = {CLASS_NAMES[c]: generate(sampler(model), cfg.eval.plot_beats, latent, k, g,
                                         labels=torch.full((cfg.eval.plot_beats,), c))[0][:, 0].numpy() for c in range(k)}
        plot_beats(shown, made, path, before=BEFORE, n=cfg.eval.plot_beats, title=path.stem)

    task = Task(model, loader, None, None, step=GANStep(model, cfg.gan, cfg.train, conditional=True),
                callbacks=[*monitors, mean_fd, SampleSnapshots(snapshot, ctx.out_dir / "samples", model)], title=name,
                artifacts={"classes": list(CLASS_NAMES), "latent": latent, "conditional": True,
                           "output": {"shape": [1, LENGTH], "lead": "MLII", "fs": 360, "before": BEFORE,
                                      "preprocessing": "0.5 Hz high-pass, z-scored per record (dlcc.signals.beats)"}})
    ctx.log(f"{name}: {len(beats):,} beats " + ", ".join(f"{v:,} {n}" for n, v in beats.counts().items())
            + f"; {len(train):,} train (ventricular repeated to {len(order):,} in all), {int(held.sum()):,} held out")

    def test(model, info):
        return beat_report(sampler(model), judge, beats, held, cfg, ctx.out_dir, name, ctx.log)

    return train_and_report(task, cfg.train, ctx, test=test)


RECIPE = Recipe("ecg-beat-gan", "conditional 1-D GAN of MIT-BIH heartbeats (normal / ventricular), scored by a "
                                "beat judge", "mitbih", Config, run, build_model, tags=("A5", "generative", "signals"),
                lightning=False)
