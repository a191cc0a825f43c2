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
        # === BEGIN SOLUTION A5.1 ===
        # HINT: nn.PixelShuffle(2) turns [B, 4c, h, w] into [B, c, 2h, 2w]
        self.fc = nn.Sequential(nn.Linear(D + num_classes, 512), nn.BatchNorm1d(512), nn.ReLU(),
                                nn.Linear(512, 64 * 7 * 7), nn.BatchNorm1d(64 * 7 * 7), nn.ReLU())
        self.conv = nn.Sequential(nn.PixelShuffle(2), nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                                  nn.PixelShuffle(2), nn.Conv2d(8, C, 3, padding=1), nn.Tanh())
        # === END SOLUTION ===
        for m in self.modules():       # the course's initialisation
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
            elif isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z [B, D] float; y [B] int64 class labels (only when num_classes > 0)."""
        if self.num_classes > 0:
            z = torch.cat([z, F.one_hot(y.long(), self.num_classes).to(z.dtype)], dim=1)
        # === BEGIN SOLUTION A5.1 ===
        x = self.fc(z)
        x = self.conv(x.view(-1, 64, 7, 7))
        # === END SOLUTION ===
        return x


class Discriminator(nn.Module):
    def __init__(self, H: int = 28, W: int = 28, C: int = 1, num_classes: int = 1):
        super().__init__()
        # === BEGIN SOLUTION A5.2 ===
        self.conv = nn.Sequential(nn.Conv2d(C, 32, 4, stride=2, padding=1), nn.BatchNorm2d(32), nn.LeakyReLU(0.1),
                                  nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.LeakyReLU(0.1))
        self.fc = nn.Sequential(nn.Linear(64 * (H // 4) * (W // 4), 512), nn.BatchNorm1d(512), nn.LeakyReLU(0.1),
                                nn.Linear(512, num_classes))
        # === END SOLUTION ===
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
            elif isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # === BEGIN SOLUTION A5.2 ===
        h = self.conv(x)
        logits = self.fc(h.flatten(1))
        # === END SOLUTION ===
        return logits


def loss_D(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss from logits [B] or [B, 1] (a scalar)."""
    # === BEGIN SOLUTION A5.3 ===
    # HINT: -log(sigmoid(t)) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t) stay finite
    loss = F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()
    # === END SOLUTION ===
    return loss


def loss_G(logit_fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss (a scalar)."""
    # === BEGIN SOLUTION A5.3 ===
    loss = F.softplus(-logit_fake).mean()
    # === END SOLUTION ===
    return loss


def gradient_penalty(D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's penalty (a scalar). Draw alpha = torch.rand(B, 1, 1, 1) (one value per sample,
    on x_real's device; one call, nothing else random), mix the two batches, and take the
    gradient of D's scores at the mixed images with torch.autograd.grad(...,
    create_graph=True), so that the penalty can itself be back-propagated into D."""
    # === BEGIN SOLUTION A5.4 ===
    alpha = torch.rand(x_real.shape[0], *([1] * (x_real.dim() - 1)), device=x_real.device)
    x_hat = (alpha * x_fake.detach() + (1 - alpha) * x_real.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    # === END SOLUTION ===
    return penalty


def wgan_loss_D(logit_real: torch.Tensor, logit_fake: torch.Tensor, penalty: torch.Tensor,
                lamda: float = 10.0) -> torch.Tensor:
    # === BEGIN SOLUTION A5.4 ===
    loss = logit_fake.mean() - logit_real.mean() + lamda * penalty
    # === END SOLUTION ===
    return loss


def wgan_loss_G(logit_fake: torch.Tensor) -> torch.Tensor:
    # === BEGIN SOLUTION A5.4 ===
    loss = -logit_fake.mean()
    # === END SOLUTION ===
    return loss
