"""GAN losses, from the discriminator's logits (the course's A5 `gan.py` and its conditional
variant), and WGAN-GP's gradient penalty.

With `D(x) = σ(logit)`:

- `d_loss` = mean(−log D(x_real) − log(1 − D(x_fake))): binary cross-entropy with real = 1,
  fake = 0. For a fixed generator the best discriminator is D* = p_data / (p_data + p_g)
  (1/2 everywhere once the generator is perfect).
- `g_loss` = mean(−log D(x_fake)): the *non-saturating* generator loss. The minimax loss
  log(1 − D(G(z))) has a vanishing gradient exactly when D rejects the fakes confidently
  (early in training); −log D(G(z)) has the same fixed point and a strong gradient there.
- `wgan_d_loss` = mean(critic(fake) − critic(real)) + λ·mean((‖∇critic(x̂)‖₂ − 1)²) and
  `wgan_g_loss` = −mean(critic(fake)) (WGAN-GP, Gulrajani et al. 2017): the critic estimates
  the Wasserstein-1 distance, kept 1-Lipschitz by penalising gradient norms away from 1 at
  random points x̂ between real and fake samples.
- conditional versions read the logit of each sample's class (`pick`), the course's D with one
  output per class.

All losses are means over the batch; `real` and `fake` are logits `[B]` or `[B, 1]`.
Computing from logits (`softplus`) keeps log D finite when D saturates.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from dlcc.errors import InputError


def pick(logits: Tensor, labels: Tensor | None) -> Tensor:
    """The logit of each sample's class: `[B, K]`, labels `[B]` -> `[B]`; without labels the
    single logit `[B, 1]` (or `[B]`) -> `[B]`."""
    if labels is None:
        if logits.dim() == 2 and logits.shape[1] != 1:
            raise InputError(f"{logits.shape[1]} logits per sample but no class labels to choose one",
                             fix="pass the labels of a conditional discriminator")
        return logits.reshape(len(logits))
    if logits.dim() != 2 or len(labels) != len(logits):
        raise InputError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} do not match",
                         fix="logits [B, num_classes] and labels [B]")
    if logits.shape[1] == 1:      # a projection discriminator: the class is already in the logit
        return logits[:, 0]
    return logits.gather(1, labels.long().view(-1, 1))[:, 0]


def d_loss(real: Tensor, fake: Tensor, labels_real: Tensor | None = None,
           labels_fake: Tensor | None = None) -> Tensor:
    """mean(−log σ(real) − log(1 − σ(fake))): −log σ(t) = softplus(−t), −log(1 − σ(t)) = softplus(t)."""
    return F.softplus(-pick(real, labels_real)).mean() + F.softplus(pick(fake, labels_fake)).mean()


def g_loss(fake: Tensor, labels: Tensor | None = None) -> Tensor:
    """The non-saturating generator loss mean(−log σ(fake))."""
    return F.softplus(-pick(fake, labels)).mean()


def wgan_d_loss(real: Tensor, fake: Tensor, penalty: Tensor, lam: float = 10.0,
                labels_real: Tensor | None = None, labels_fake: Tensor | None = None) -> Tensor:
    """mean(fake − real) + λ·penalty, with `penalty` from `gradient_penalty` (a scalar)."""
    return pick(fake, labels_fake).mean() - pick(real, labels_real).mean() + lam * penalty


def wgan_g_loss(fake: Tensor, labels: Tensor | None = None) -> Tensor:
    """−mean(critic(fake))."""
    return -pick(fake, labels).mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                     generator: torch.Generator | None = None) -> Tensor:
    """mean over samples of (‖∇ₓ critic(x̂)‖₂ − 1)², x̂ = α·fake + (1 − α)·real, α ~ U(0, 1)
    per sample. `critic(x) -> [B]` scores (a conditional critic closes over the labels);
    the graph is kept (`create_graph`) so the penalty trains the critic."""
    alpha = torch.rand((len(real),) + (1,) * (real.dim() - 1), device=real.device, generator=generator)
    mixed = (alpha * fake.detach() + (1 - alpha) * real.detach()).requires_grad_(True)
    scores = critic(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def lsgan_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """Least-squares discriminator loss (Mao et al. 2017, CycleGAN's choice):
    ½·mean((D(real) − 1)²) + ½·mean(D(fake)²), over every output (e.g. every patch)."""
    return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean()


def lsgan_g_loss(fake: Tensor) -> Tensor:
    """Least-squares generator loss mean((D(fake) − 1)²)."""
    return ((fake - 1) ** 2).mean()
