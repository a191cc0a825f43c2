"""A5: train the GAN (or WGAN-GP) of gan.py on MNIST.

    python a5_gan.py                           # GAN, 3 epochs (about 2,700 steps; 10-20 CPU minutes)
    python a5_gan.py --loss_type wgan          # WGAN-GP (lambda 10); slower per step
    python a5_gan.py --num_epochs 1 --n 10000  # a quick look

Every `--sample_every` steps a 16 x 16 grid of samples from fixed noise goes to
result/small_gan/ (result/small_wgan/ for WGAN-GP); at the end the loss curves and the Fréchet
distance of 2,000 samples to 2,000 test images on the features of dlcc's MNIST classifier
(util.frechet_distance; the same number for 2,000 training images is printed beside it as the
floor). dlcc's own recipe is `dlcc run mnist-gan` (docs/gans.md). Check your work with
`dlcc course test A5`.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

import util
from gan import Discriminator, Generator, gradient_penalty, loss_D, loss_G, wgan_loss_D, wgan_loss_G


def train_step(G: nn.Module, D: nn.Module, optim_G, optim_D, x_real: torch.Tensor, loss_type: str = "gan",
               optim_step_D: int = 2, lamda: float = 10.0) -> tuple[float, float]:
    """One generator step after `optim_step_D` discriminator steps, on one real batch.

    For each discriminator step: draw z = torch.randn(B, G.D, device=x_real.device) (B =
    len(x_real)), x_fake = G(z); compute D's loss on D(x_real) and D(x_fake.detach()) - for
    "wgan", wgan_loss_D with gradient_penalty(D, x_real, x_fake) computed right after the two
    logits - then zero D's gradients, backward, step. Then the generator step on the x_fake of
    the last discriminator step: loss_G (or wgan_loss_G) of D(x_fake), zero G's gradients,
    backward, step. Random numbers are drawn only in that order (z, then the penalty's alpha).

    Returns:
        (the last discriminator loss, the generator loss) as Python floats.
    """
    G.train()
    D.train()
    # === BEGIN SOLUTION A5.5 ===
    for _ in range(optim_step_D):
        z = torch.randn(len(x_real), G.D, device=x_real.device)
        x_fake = G(z)
        logit_real, logit_fake = D(x_real), D(x_fake.detach())
        if loss_type == "wgan":
            d_loss = wgan_loss_D(logit_real, logit_fake, gradient_penalty(D, x_real, x_fake), lamda)
        else:
            d_loss = loss_D(logit_real, logit_fake)
        optim_D.zero_grad()
        d_loss.backward()
        optim_D.step()
    logit_fake = D(x_fake)
    g_loss = wgan_loss_G(logit_fake) if loss_type == "wgan" else loss_G(logit_fake)
    optim_G.zero_grad()
    g_loss.backward()
    optim_G.step()
    # === END SOLUTION ===
    return d_loss.item(), g_loss.item()


def make_optimizers(G: nn.Module, D: nn.Module, lr: float = 1e-3) -> tuple:
    """The course's Adam(lr, betas=(0.5, 0.999)) for each network."""
    return (torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999)),
            torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999)))


@torch.no_grad()
def sample(G: nn.Module, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    was = G.training
    G.eval()
    try:
        return G(z, y).cpu() if y is not None else G(z).cpu()
    finally:
        G.train(was)


def run_training(args) -> tuple[nn.Module, dict]:
    util.set_seed(args.seed)
    device = util.find_device(args.use_gpu)
    loader = util.mnist_loader(args.batch_size, args.n, args.seed)
    G, D = Generator(args.latent).to(device), Discriminator().to(device)
    optim_G, optim_D = make_optimizers(G, D, args.learning_rate)
    out = util.RESULT_DIR / ("small_wgan" if args.loss_type == "wgan" else "small_gan")
    z_fixed = torch.randn(256, args.latent, device=device)
    history, step, start = {"D": [], "G": []}, 0, time.time()
    for epoch in range(args.num_epochs):
        for x, _ in loader:
            d, g = train_step(G, D, optim_G, optim_D, x.to(device), args.loss_type, args.optim_step_D, args.wgan_lambda)
            history["D"].append(d)
            history["G"].append(g)
            step += 1
            if step % args.sample_every == 0:
                util.save_image_grid(sample(G, z_fixed), out / f"sampled_image_at_{step:05d}.png")
                print(f"epoch {epoch + 1}, step {step}: loss_D {d:.3f}, loss_G {g:.3f} ({time.time() - start:.0f} s)")
    util.save_image_grid(sample(G, z_fixed), out / "sampled_image_final.png")
    util.plot_curves(history, out / "losses.png", title=f"{args.loss_type}: discriminator and generator losses")
    fake = sample(G, torch.randn(2000, args.latent, device=device))
    test, _ = util.load_mnist("test", 2000)
    train, _ = util.load_mnist("train", 2000)
    fd, floor = util.frechet_distance(fake, test), util.frechet_distance(train, test)
    print(f"Fréchet distance to 2,000 test images: {fd:.2f} (2,000 training images: {floor:.2f}); images in {out}")
    return G, {"history": history, "frechet_distance": fd, "floor": floor}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="A5: GAN / WGAN-GP on MNIST")
    parser.add_argument("--loss_type", choices=["gan", "wgan"], default="gan")
    parser.add_argument("--num_epochs", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--optim_step_D", type=int, default=2, help="discriminator steps per generator step")
    parser.add_argument("--wgan_lambda", type=float, default=10.0)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--n", type=int, default=None, help="train on the first n images")
    parser.add_argument("--sample_every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--use_gpu", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run_training(parse_args())
