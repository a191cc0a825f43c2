"""`GANStep`: one training step of a GAN, WGAN-GP or class-conditional GAN, for the run helper
(`Task(step=GANStep(...))`, docs/training.md "Custom training steps").

One step = `d_steps` discriminator updates, then one generator update:

    for each of the d_steps real batches x (and their labels y):
        z ~ N(0, I); fake = G(z, y)                                (no gradient into G)
        D update on d_loss(D(x), D(fake))   or   critic update on
                  mean(D(fake)) - mean(D(x)) + λ·gradient_penalty
    G update on g_loss(D(G(z, y)))  (the fakes of the last D update, as the course did)
    ema: G_ema ← decay·G_ema + (1 − decay)·G

The fakes of a conditional GAN take the classes of the real batch, so the generator sees the
data's class frequencies. The networks live in `model = ModuleDict(G, D[, G_ema])`, which the
run helper checkpoints and saves whole; `sampler(model)` is what generates afterwards.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
from torch import Tensor, nn

from dlcc.generative.settings import GANSettings
from dlcc.losses.gan import d_loss, g_loss, gradient_penalty, pick, wgan_d_loss, wgan_g_loss
from dlcc.train.config import TrainConfig
from dlcc.train.optim import make_optimizer


def gan_model(G: nn.Module, D: nn.Module, ema: float = 0.0) -> nn.ModuleDict:
    """`ModuleDict(G=G, D=D)`, plus `G_ema` (a copy of G, never trained directly) when `ema > 0`."""
    parts = {"G": G, "D": D}
    if ema > 0:
        parts["G_ema"] = copy.deepcopy(G).requires_grad_(False)
    return nn.ModuleDict(parts)


def sampler(model: nn.ModuleDict) -> nn.Module:
    """The generator to sample from: the moving average when the model keeps one."""
    return model["G_ema"] if "G_ema" in model else model["G"]


class GANStep:
    """The step function (module docstring) with its two optimizers.

    Args:
        model: `gan_model(G, D, ema)`; `G(z[, labels])` -> samples, `D(x[, labels])` -> logits.
        gan: the `gan.*` settings (loss, d_steps, gp_weight, latent, ema, ...).
        train: `train.*`: the optimizer (`train.optimizer`, `lr`, `momentum` = Adam's beta1,
            `beta2`, `weight_decay`) built once per network.
        conditional: batches are `(x, y)` and both networks take the labels.
    """

    def __init__(self, model: nn.ModuleDict, gan: GANSettings, train: TrainConfig, conditional: bool = False):
        self.model, self.gan, self.conditional = model, gan, conditional
        d_train = dataclasses.replace(train, lr=train.lr * gan.d_lr_factor)
        self.optimizers = {"D": make_optimizer(model["D"].parameters(), d_train),
                           "G": make_optimizer(model["G"].parameters(), train)}

    def __call__(self, trainer, batch) -> dict[str, Tensor]:
        G, D, gan = self.model["G"], self.model["D"], self.gan
        x, y = (batch[0], batch[1]) if self.conditional else (batch[0], None)
        parts = self._real_batches(x, y)
        for i, (real, labels) in enumerate(parts):
            last = i == len(parts) - 1
            z = torch.randn(len(real), gan.latent, device=real.device)
            with trainer.autocast(), torch.set_grad_enabled(last):
                fake = G(z, labels) if self.conditional else G(z)   # the last one also trains G
            with trainer.autocast():
                loss_d = self._d_loss(D, real, fake.detach(), labels)
            self.optimizers["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            self.optimizers["D"].step()
        D.requires_grad_(False)          # the generator's update needs no gradient for D's weights
        try:
            with trainer.autocast():
                scores = D(fake, labels) if self.conditional else D(fake)
                loss_g = (wgan_g_loss if gan.loss == "wgan-gp" else g_loss)(scores, labels)
            self.optimizers["G"].zero_grad(set_to_none=True)
            loss_g.backward()
        finally:
            D.requires_grad_(True)
        self.optimizers["G"].step()
        if "G_ema" in self.model:
            update_ema(self.model["G_ema"], G, gan.ema)
        return {"d_loss": loss_d.detach(), "g_loss": loss_g.detach()}

    def _real_batches(self, x: Tensor, y: Tensor | None) -> list[tuple[Tensor, Tensor | None]]:
        """`d_steps` real batches: slices of the step's batch (`fresh_real`) or the batch again."""
        k = self.gan.d_steps
        if not self.gan.fresh_real or k == 1:
            return [(x, y)] * k
        xs = x.chunk(k)
        ys = y.chunk(k) if y is not None else [None] * len(xs)
        return list(zip(xs, ys))

    def _d_loss(self, D: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None) -> Tensor:
        cond = self.conditional
        real_logits = D(real, labels) if cond else D(real)
        fake_logits = D(fake, labels) if cond else D(fake)
        if self.gan.loss == "gan":
            return d_loss(real_logits, fake_logits, labels, labels)
        penalty = gradient_penalty(lambda m: pick(D(m, labels) if cond else D(m), labels), real, fake)
        return wgan_d_loss(real_logits, fake_logits, penalty, self.gan.gp_weight, labels, labels)


@torch.no_grad()
def update_ema(average: nn.Module, model: nn.Module, decay: float) -> None:
    """average ← decay·average + (1 − decay)·model for parameters; buffers (BatchNorm's running
    statistics) are copied."""
    for a, p in zip(average.parameters(), model.parameters()):
        a.lerp_(p.detach(), 1.0 - decay)
    for a, b in zip(average.buffers(), model.buffers()):
        a.copy_(b)
