"""A5: the GAN's networks and losses (the course's `gan.py`).

Generator(D=64, C=1, num_classes=0): noise z [B, D] (+ one-hot class [B, num_classes]) ->
images [B, C, 28, 28] in [-1, 1]:

    self.fc:   Linear(D + num_classes, 512) -> BatchNorm1d(512) -> ReLU
               -> Linear(512, 64*7*7) -> BatchNorm1d(64*7*7) -> ReLU
    reshape to [B, 64, 7, 7]
    self.conv: PixelShuffle(2) -> [B, 16, 14, 14] -> Conv2d(16, 32, 3, padding=1) -> BatchNorm2d(32) -> ReLU
               -> PixelShuffle(2) -> [B, 8, 28, 28] -> Conv2d(8, C, 3, padding=1) -> Tanh

Discriminator(H=28, W=28, C=1, num_classes=1): images [B, C, H, W] -> logits [B, num_classes]:

    self.conv: Conv2d(C, 32, 4, stride=2, padding=1) -> BatchNorm2d(32) -> LeakyReLU(0.1)
               -> Conv2d(32, 64, 4, stride=2, padding=1) -> BatchNorm2d(64) -> LeakyReLU(0.1)
    flatten to [B, 64 * H/4 * W/4]
    self.fc:   Linear(64 * H/4 * W/4, 512) -> BatchNorm1d(512) -> LeakyReLU(0.1) -> Linear(512, num_classes)

Use exactly these attribute names and nn.Sequential orders: the tests load weights by name
(e.g. "fc.0.weight", "conv.1.weight"). With D(x) = sigmoid(logit):

    loss_D = mean(-log D(x_real) - log(1 - D(x_fake)))       loss_G = mean(-log D(x_fake))
    wgan_loss_D = mean(critic(x_fake) - critic(x_real)) + lamda * penalty
    wgan_loss_G = -mean(critic(x_fake))
    penalty = mean((||grad critic(x_hat)||_2 - 1)^2), x_hat = alpha * x_fake + (1 - alpha) * x_real

Check your work with `dlcc course test A5`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Generator(nn.Module):
    def __init__(self, D: int = 64, C: int = 1, num_classes: int = 0):
        super().__init__()
        self.D, self.C, self.num_classes = D, C, num_classes
        # TODO (A5.1): your code here
        # HINT: nn.PixelShuffle(2) turns [B, 4c, h, w] into [B, c, 2h, 2w]
        raise NotImplementedError("A5.1: this part of __init__() is not implemented yet")
        for m in self.modules():       # the course's initialisation
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
            elif isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z [B, D] float; y [B] int64 class labels (only when num_classes > 0)."""
        if self.num_classes > 0:
            z = torch.cat([z, F.one_hot(y.long(), self.num_classes).to(z.dtype)], dim=1)
        # TODO (A5.1): your code here
        raise NotImplementedError("A5.1: this part of forward() is not implemented yet")
        return x


class Discriminator(nn.Module):
    def __init__(self, H: int = 28, W: int = 28, C: int = 1, num_classes: int = 1):
        super().__init__()
        # TODO (A5.2): your code here
        raise NotImplementedError("A5.2: this part of __init__() is not implemented yet")
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
            elif isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO (A5.2): your code here
        raise NotImplementedError("A5.2: this part of forward() is not implemented yet")
        return logits


def loss_D(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss from logits [B] or [B, 1] (a scalar)."""
    # TODO (A5.3): your code here
    # HINT: -log(sigmoid(t)) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t) stay finite
    raise NotImplementedError("A5.3: this part of loss_D() is not implemented yet")
    return loss


def loss_G(logit_fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss (a scalar)."""
    # TODO (A5.3): your code here
    raise NotImplementedError("A5.3: this part of loss_G() is not implemented yet")
    return loss


def gradient_penalty(D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's penalty (a scalar). Draw alpha = torch.rand(B, 1, 1, 1) (one value per sample,
    on x_real's device; one call, nothing else random), mix the two batches, and take the
    gradient of D's scores at the mixed images with torch.autograd.grad(...,
    create_graph=True), so that the penalty can itself be back-propagated into D."""
    # TODO (A5.4): your code here
    raise NotImplementedError("A5.4: this part of gradient_penalty() is not implemented yet")
    return penalty


def wgan_loss_D(logit_real: torch.Tensor, logit_fake: torch.Tensor, penalty: torch.Tensor,
                lamda: float = 10.0) -> torch.Tensor:
    # TODO (A5.4): your code here
    raise NotImplementedError("A5.4: this part of wgan_loss_D() is not implemented yet")
    return loss


def wgan_loss_G(logit_fake: torch.Tensor) -> torch.Tensor:
    # TODO (A5.4): your code here
    raise NotImplementedError("A5.4: this part of wgan_loss_G() is not implemented yet")
    return loss
