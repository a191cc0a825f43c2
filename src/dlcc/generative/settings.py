"""`GANSettings`: the `gan.*` section of the GAN recipes - which loss, how many discriminator
steps per generator step, and what the step keeps besides the two networks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dlcc.config import setting
from dlcc.errors import ConfigError


@dataclass
class GANSettings:
    loss: Literal["gan", "wgan-gp"] = setting("gan", "gan: non-saturating BCE (the course's); wgan-gp: Wasserstein "
                                                     "critic with gradient penalty")
    d_steps: int = setting(1, "discriminator (critic) steps per generator step: the course's k, WGAN-GP's n_critic",
                           ge=1)
    fresh_real: bool = setting(True, "each discriminator step sees its own real batch (a step then reads "
                                     "d_steps x train.batch_size samples); false: all reuse one batch, as the "
                                     "course did")
    gp_weight: float = setting(10.0, "wgan-gp: the gradient-penalty weight lambda", ge=0)
    d_lr_factor: float = setting(1.0, "discriminator learning rate = this x train.lr (two time-scale updates)", gt=0)
    latent: int = setting(64, "size of the noise vector z ~ N(0, I)", ge=1)
    ema: float = setting(0.999, "keep an exponential moving average of the generator's weights with this decay "
                                "(0: off, as in the course); samples and scores then come from the average",
                         ge=0, lt=1)

    def check(self, where: str) -> None:
        if self.loss == "gan" and self.gp_weight != 10.0:
            raise ConfigError(f"{where}gp_weight applies to {where}loss=wgan-gp only",
                              fix=f"--set {where}loss=wgan-gp, or leave {where}gp_weight at 10")


@dataclass
class DiscriminatorSettings:
    """The `model.*` keys every GAN recipe's discriminator shares."""

    norm: Literal["batch", "layer", "none"] = setting("batch", "discriminator normalisation (wgan-gp: layer or none)")
    conditioning: Literal["output", "projection"] = setting("output", "conditional discriminator: one logit per "
                                                                      "class (the course's) or a projection term")


GAN_TRAIN = dict(epochs=None, steps=3000, eval_every=500, batch_size=64, optimizer="adam", lr=1e-3, momentum=0.5,
                 select="val_fd", select_mode="min")    # train.* defaults of the GAN recipes (the course's Adam)


def check_critic_norm(gan: GANSettings, model: DiscriminatorSettings) -> None:
    """WGAN-GP's penalty is per sample; batch normalisation mixes the samples of a batch."""
    if gan.loss == "wgan-gp" and model.norm == "batch":
        raise ConfigError("gan.loss=wgan-gp with model.norm=batch: the gradient penalty is per sample and "
                          "batch normalisation mixes the samples of a batch", fix="--set model.norm=layer")
