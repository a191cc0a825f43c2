"""A5: a class-conditional GAN on MNIST (the course's `a5_conditional_gan.py`).

The generator gets the digit as a one-hot vector appended to z (Generator(num_classes=10));
the discriminator has one logit per class (Discriminator(num_classes=10)) and is read at the
sample's class: D(x, y) = sigmoid(logit[y]). Both losses are then the binary losses of gan.py
on the logit of the true class.

    python a5_conditional_gan.py                  # 3 epochs; samples in result/small_conditional_gan/
    python a5_conditional_gan.py --num_epochs 1 --n 10000

The 10 x 10 sample grid has one digit per column. At the end, dlcc's MNIST classifier labels
1,000 samples: the share it labels with the class they were generated for is the conditional
accuracy (dlcc's recipe: `dlcc run mnist-cgan`). Check your work with `dlcc course test A5`.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

import util
from a5_gan import make_optimizers, sample
from gan import Discriminator, Generator, loss_D, loss_G


def conditional_loss_D(logit_real: torch.Tensor, logit_fake: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """loss_D on the logits of the true classes: logits [B, num_classes], y [B] int64 (the
    classes of the real images and of the fakes, which were generated for the same classes)."""
    # === BEGIN SOLUTION A5.6 ===
    # HINT: logits.gather(1, y.view(-1, 1)) picks one logit per row
    index = y.long().view(-1, 1)
    loss = loss_D(logit_real.gather(1, index), logit_fake.gather(1, index))
    # === END SOLUTION ===
    return loss


def conditional_loss_G(logit_fake: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """loss_G on the logits of the classes the fakes were generated for."""
    # === BEGIN SOLUTION A5.6 ===
    loss = loss_G(logit_fake.gather(1, y.long().view(-1, 1)))
    # === END SOLUTION ===
    return loss


def conditional_train_step(G: nn.Module, D: nn.Module, optim_G, optim_D, x_real, y, optim_step_D: int = 1):
    """As a5_gan.train_step, with the fakes generated for the real batch's classes."""
    for _ in range(optim_step_D):
        x_fake = G(torch.randn(len(x_real), G.D, device=x_real.device), y)
        d_loss = conditional_loss_D(D(x_real), D(x_fake.detach()), y)
        optim_D.zero_grad()
        d_loss.backward()
        optim_D.step()
    g_loss = conditional_loss_G(D(x_fake), y)
    optim_G.zero_grad()
    g_loss.backward()
    optim_G.step()
    return d_loss.item(), g_loss.item()


def run_training(args) -> tuple[nn.Module, dict]:
    util.set_seed(args.seed)
    device = util.find_device(args.use_gpu)
    loader = util.mnist_loader(args.batch_size, args.n, args.seed)
    G, D = Generator(args.latent, num_classes=10).to(device), Discriminator(num_classes=10).to(device)
    optim_G, optim_D = make_optimizers(G, D, args.learning_rate)
    out = util.RESULT_DIR / "small_conditional_gan"
    z_fixed, y_fixed = torch.randn(100, args.latent, device=device), torch.arange(10, device=device).repeat(10)
    step, start = 0, time.time()
    for epoch in range(args.num_epochs):
        for x, y in loader:
            d, g = conditional_train_step(G, D, optim_G, optim_D, x.to(device), y.to(device), args.optim_step_D)
            step += 1
            if step % args.sample_every == 0:
                util.save_image_grid(sample(G, z_fixed, y_fixed), out / f"sampled_image_at_{step:05d}.png", nrow=10)
                print(f"epoch {epoch + 1}, step {step}: loss_D {d:.3f}, loss_G {g:.3f} ({time.time() - start:.0f} s)")
    util.save_image_grid(sample(G, z_fixed, y_fixed), out / "sampled_image_final.png", nrow=10)
    labels = torch.arange(1000, device=device) % 10
    fake = sample(G, torch.randn(1000, args.latent, device=device), labels)
    with torch.no_grad():
        predicted = util.load_classifier()(fake).argmax(1)
    accuracy = float((predicted == labels.cpu()).float().mean())
    print(f"conditional accuracy (dlcc's classifier labels class-c samples c): {accuracy:.3f}; images in {out}")
    return G, {"conditional_accuracy": accuracy}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="A5: conditional GAN on MNIST")
    parser.add_argument("--num_epochs", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--optim_step_D", type=int, default=1)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--sample_every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--use_gpu", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run_training(parse_args())
