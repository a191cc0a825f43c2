"""`CycleGANStep`: one training step of a CycleGAN (Zhu et al. 2017) between domains A and B
from *unpaired* batches, for the run helper (`Task(step=...)`).

    fake_b = G_ab(a), fake_a = G_ba(b)
    generators:     LS-GAN loss of D_b(fake_b) and D_a(fake_a)
                    + λ_cycle · (|G_ba(fake_b) − a| + |G_ab(fake_a) − b|)        (L1, means)
                    + λ_cycle · λ_identity · (|G_ab(b) − b| + |G_ba(a) − a|)     (optional)
    discriminators: ½·LS-GAN loss of D_a on (a, fake_a) + ½·of D_b on (b, fake_b)

The cycle loss is what makes unpaired learning possible: among all maps that make fake_b look
like a B sample, it keeps those that lose nothing of a (G_ba can undo them). The original's
pool of 50 earlier fakes for the discriminators is left out.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from dlcc.config import setting
from dlcc.losses.gan import lsgan_d_loss, lsgan_g_loss
from dlcc.train.config import TrainConfig
from dlcc.train.optim import make_optimizer


@dataclass
class CycleSettings:
    cycle_weight: float = setting(10.0, "lambda of the cycle-consistency loss", ge=0)
    identity_weight: float = setting(0.0, "identity loss weight, as a fraction of cycle_weight (CycleGAN: 0.5 for "
                                          "photos; 0 here, since copying the input is the trivial lead translation)",
                                     ge=0)
    d_lr_factor: float = setting(1.0, "discriminator learning rate = this x train.lr", gt=0)


def cycle_model(G_ab: nn.Module, G_ba: nn.Module, D_a: nn.Module, D_b: nn.Module) -> nn.ModuleDict:
    return nn.ModuleDict({"G_ab": G_ab, "G_ba": G_ba, "D_a": D_a, "D_b": D_b})


class CycleGANStep:
    """The step (module docstring); batches are `(a, b)`: unpaired samples of the two domains."""

    def __init__(self, model: nn.ModuleDict, cycle: CycleSettings, train: TrainConfig):
        self.model, self.cycle = model, cycle
        d_train = dataclasses.replace(train, lr=train.lr * cycle.d_lr_factor)
        g_params = itertools.chain(model["G_ab"].parameters(), model["G_ba"].parameters())
        d_params = itertools.chain(model["D_a"].parameters(), model["D_b"].parameters())
        self.optimizers = {"G": make_optimizer(list(g_params), train), "D": make_optimizer(list(d_params), d_train)}

    def __call__(self, trainer, batch) -> dict[str, Tensor]:
        a, b = batch[0], batch[1]
        m, c = self.model, self.cycle
        discriminators = (m["D_a"], m["D_b"])
        for D in discriminators:
            D.requires_grad_(False)            # the generators' update needs no gradient for D's weights
        try:
            with trainer.autocast():
                fake_b, fake_a = m["G_ab"](a), m["G_ba"](b)
                adversarial = lsgan_g_loss(m["D_b"](fake_b)) + lsgan_g_loss(m["D_a"](fake_a))
                cycle = (m["G_ba"](fake_b) - a).abs().mean() + (m["G_ab"](fake_a) - b).abs().mean()
                loss_g = adversarial + c.cycle_weight * cycle
                if c.identity_weight > 0:
                    identity = (m["G_ab"](b) - b).abs().mean() + (m["G_ba"](a) - a).abs().mean()
                    loss_g = loss_g + c.cycle_weight * c.identity_weight * identity
            self.optimizers["G"].zero_grad(set_to_none=True)
            loss_g.backward()
        finally:
            for D in discriminators:
                D.requires_grad_(True)
        self.optimizers["G"].step()
        with trainer.autocast():
            loss_d = 0.5 * (lsgan_d_loss(m["D_a"](a), m["D_a"](fake_a.detach()))
                            + lsgan_d_loss(m["D_b"](b), m["D_b"](fake_b.detach())))
        self.optimizers["D"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizers["D"].step()
        return {"g_adv": adversarial.detach(), "cycle": cycle.detach(), "d_loss": loss_d.detach()}


@torch.no_grad()
def translate(G: nn.Module, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """`G` in eval mode over `x` `[n, 1, L]` in batches, on the CPU."""
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()
    try:
        return torch.cat([G(x[i:i + batch].to(device)).float().cpu() for i in range(0, len(x), batch)])
    finally:
        G.train(was_training)
