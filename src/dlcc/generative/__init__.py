"""Generative models on the training core: GAN, WGAN-GP and conditional GAN steps, CycleGAN,
sample snapshots, and sample-quality scores with dlcc's judges.

    from dlcc.generative import GANStep, GANSettings, gan_model, sampler
    model = gan_model(Generator(), Discriminator())
    task = Task(model, loader, None, None, step=GANStep(model, GANSettings(), cfg.train))

See docs/gans.md.
"""

from dlcc.generative.cycle import CycleGANStep, CycleSettings, cycle_model, translate
from dlcc.generative.settings import GANSettings
from dlcc.generative.step import GANStep, gan_model, sampler, update_ema

__all__ = ["CycleGANStep", "CycleSettings", "GANSettings", "GANStep", "cycle_model", "gan_model", "sampler",
           "translate", "update_ema"]
