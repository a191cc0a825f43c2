"""Lecture 10 companion: generative models and GANs, in one and two dimensions.

1. The optimal discriminator: a small discriminator trained with dlcc's `d_loss` on samples of
   two 1-D Gaussians lands on D*(x) = p_data(x) / (p_data(x) + p_g(x)), computed exactly.
2. Why the non-saturating generator loss: the gradient of log(1 - D) against that of -log D
   (dlcc's `g_loss`) when the discriminator rejects the fakes.
3. Jensen-Shannon against Wasserstein-1 for two distributions whose supports move apart: JS
   (in bits) stops changing once they are disjoint; W1 keeps growing with the distance.
4. Mode collapse on a ring of eight Gaussians: a GAN and a WGAN-GP trained with dlcc's
   `GANStep`; modes covered and the Fréchet distance (dlcc.metrics.frechet) of each.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcc.generative import GANSettings, GANStep, gan_model
from dlcc.lectures.plotting import new_figure
from dlcc.losses.gan import d_loss, g_loss
from dlcc.metrics.frechet import frechet_distance_features
from dlcc.train import TrainConfig

RING_MODES, RING_RADIUS, RING_STD = 8, 2.0, 0.1


def mlp(n_in: int, n_out: int, width: int = 64) -> nn.Sequential:
    """Two hidden ReLU layers: `[B, n_in]` -> `[B, n_out]` (the generator and discriminator of
    the 2-D experiments)."""
    return nn.Sequential(nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, n_out))


class _Plain:
    """The one thing `GANStep` asks of its trainer: an autocast context (none on a CPU toy)."""

    def autocast(self):
        return contextlib.nullcontext()


def ring(n: int, gen: torch.Generator) -> torch.Tensor:
    """`[n, 2]` samples of eight Gaussians (std 0.1) evenly spaced on a circle of radius 2."""
    k = torch.randint(0, RING_MODES, (n,), generator=gen)
    angle = k.float() * 2 * math.pi / RING_MODES
    centres = RING_RADIUS * torch.stack([angle.cos(), angle.sin()], 1)
    return centres + RING_STD * torch.randn(n, 2, generator=gen)


def ring_centres() -> torch.Tensor:
    angle = torch.arange(RING_MODES).float() * 2 * math.pi / RING_MODES
    return RING_RADIUS * torch.stack([angle.cos(), angle.sin()], 1)


def modes_covered(x: torch.Tensor) -> tuple[int, float]:
    """(how many of the eight modes hold at least 2 % of the samples within 3 std of their
    centre, the fraction of samples that lie that close to some mode)."""
    dist = torch.cdist(x, ring_centres())
    near = dist.min(1)
    good = near.values < 3 * RING_STD
    counts = torch.bincount(near.indices[good], minlength=RING_MODES)
    return int((counts >= 0.02 * len(x)).sum()), float(good.float().mean())


def _normal_pdf(x, mu, sd=1.0):
    return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def _optimal_discriminator(c):
    c.section("1. The optimal discriminator D*(x) = p_data(x) / (p_data(x) + p_g(x))")
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    mu_data, mu_g = -1.0, 1.0                      # p_data = N(-1, 1), p_g = N(1, 1), fixed
    D = mlp(1, 1, width=32)
    opt = torch.optim.Adam(D.parameters(), lr=3e-3)
    for _ in range(c.steps(400, 2000)):
        real = mu_data + torch.randn(512, 1, generator=gen)
        fake = mu_g + torch.randn(512, 1, generator=gen)
        loss = d_loss(D(real), D(fake))            # dlcc's discriminator loss, from logits
        opt.zero_grad()
        loss.backward()
        opt.step()
    grid = np.linspace(-3, 3, 121)
    with torch.no_grad():
        learned = torch.sigmoid(D(torch.tensor(grid, dtype=torch.float32)[:, None]))[:, 0].numpy()
    p_data, p_g = _normal_pdf(grid, mu_data), _normal_pdf(grid, mu_g)
    exact = p_data / (p_data + p_g)
    c.say("p_data = N(-1, 1), p_g = N(1, 1); the discriminator (1-32-32-1 MLP) sees samples only")
    c.number("dstar_max_error", np.abs(learned - exact).max(), "max |D(x) - D*(x)| for x in [-3, 3]", ".3f")
    c.number("dstar_at_midpoint", learned[60], "learned D(0), where the two densities are equal", ".3f")
    fig, (a1, a2) = new_figure(1, 2, size=(9, 3.4))
    a1.plot(grid, p_data, label="p_data")
    a1.plot(grid, p_g, label="p_g")
    a1.set_xlabel("x")
    a1.set_ylabel("density")
    a1.legend(fontsize=8)
    a2.plot(grid, exact, "k-", lw=2, label="D*(x) = p_data / (p_data + p_g)")
    a2.plot(grid, learned, "--", color="C3", label="trained discriminator σ(D(x))")
    a2.axhline(0.5, color="0.6", ls=":")
    a2.set_xlabel("x")
    a2.set_ylabel("probability that x is real")
    a2.legend(fontsize=8)
    return fig


def _saturation(c, fig_dstar):
    c.section("2. Minimax vs non-saturating generator loss: gradients when D rejects the fakes")
    d_fake = np.array([0.5, 0.1, 1e-2, 1e-3, 1e-4])
    logits = torch.tensor(np.log(d_fake / (1 - d_fake)), dtype=torch.float64, requires_grad=True)
    rows, ratio = [], 0.0
    for i in range(len(d_fake)):
        l = logits[i:i + 1]
        (g_minimax,) = torch.autograd.grad(F.logsigmoid(-l).mean(), l)   # log(1 - σ(l)), minimised by G
        (g_ns,) = torch.autograd.grad(g_loss(l), l)                         # -log σ(l), dlcc's g_loss
        rows.append([f"{d_fake[i]:g}", abs(float(g_minimax)), abs(float(g_ns))])
        ratio = abs(float(g_ns)) / abs(float(g_minimax))
    c.table(["D(G(z))", "|d/dlogit log(1 - D)|", "|d/dlogit -log D|"], rows, ".3g")
    c.number("ns_over_minimax_gradient", ratio, "non-saturating / minimax gradient at D(G(z)) = 1e-4", ".0f")
    c.figure("optimal_discriminator", fig_dstar, "Left: the data and a fixed generator, two "
             "Gaussians. Right: a discriminator trained on samples only, with dlcc's d_loss, "
             "lands on the exact D*(x) = p_data/(p_data + p_g); it says 1/2 where the densities "
             "are equal.")


def _js_bits(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits of two probability vectors of the same length."""
    m = 0.5 * (p + q)

    def kl(a):
        return float(np.sum(a[a > 0] * np.log2(a[a > 0] / m[a > 0])))

    return 0.5 * kl(p) + 0.5 * kl(q)


def _js_vs_wasserstein(c):
    c.section("3. Jensen-Shannon vs Wasserstein-1 as the generator's support moves away")
    from scipy.stats import wasserstein_distance

    x = np.linspace(-1, 7, 8001)
    p = ((x >= 0) & (x < 1)).astype(float)           # p_data = uniform on [0, 1)
    p /= p.sum()
    shifts = np.linspace(0, 5, 51)
    js, w1 = [], []
    for t in shifts:
        q = ((x >= t) & (x < t + 1)).astype(float)   # p_g = uniform on [t, t + 1)
        q /= q.sum()
        js.append(_js_bits(p, q))
        w1.append(wasserstein_distance(x, x, p, q))
    js, w1 = np.array(js), np.array(w1)
    i1, i2, i4 = (int(np.argmin(abs(shifts - s))) for s in (1.5, 2.5, 4.0))
    c.table(["shift t", "JS (bits)", "W1"], [[f"{shifts[i]:.1f}", js[i], w1[i]] for i in (0, 5, 10, i1, i2, i4)], ".3f")
    c.number("js_bits_shift_1.5", js[i1], "JS in bits, supports 0.5 apart", ".3f")
    c.number("js_bits_shift_4", js[i4], "JS in bits, supports 3 apart", ".3f")
    c.number("w1_shift_4", w1[i4], "Wasserstein-1 at shift 4", ".3f")
    fig, ax = new_figure(size=(6.2, 3.5))
    ax.plot(shifts, js, label="Jensen–Shannon (bits)")
    ax.plot(shifts, w1, label="Wasserstein-1 (earth mover's)")
    ax.axvline(1, color="0.6", ls=":", label="supports stop overlapping")
    ax.set_xlabel("shift t of the generator's uniform distribution")
    ax.set_ylabel("divergence / distance")
    ax.legend(fontsize=8)
    c.figure("js_vs_wasserstein", fig, "p_data uniform on [0, 1), p_g uniform on [t, t + 1). Once "
             "the supports are disjoint (t ≥ 1) the JS divergence is flat at its maximum of one bit: "
             "moving p_g closer changes nothing, so its gradient is zero. The Wasserstein distance "
             "is t, and always says which way to move.")


def _train_gan(c, loss: str, steps: int, d_steps: int, lr: float, beta2: float, z: torch.Tensor,
               snapshot: int = 0, seed: int = 0):
    """A 2-D GAN on the ring with dlcc's GANStep: (samples G(z) at the end, samples after
    `snapshot` steps or None)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = gan_model(mlp(2, 2), mlp(2, 1))
    step = GANStep(model, GANSettings(loss=loss, d_steps=d_steps, latent=2, ema=0.0),
                   TrainConfig(optimizer="adam", lr=lr, momentum=0.5, beta2=beta2))
    trainer, early = _Plain(), None
    for i in c.progress(range(steps), desc=loss):
        step(trainer, (ring(128 * d_steps, gen),))
        if i + 1 == snapshot:
            with torch.no_grad():
                early = model["G"](z)
    with torch.no_grad():
        return model["G"](z), early


def _mode_collapse(c):
    c.section("4. Mode collapse on a ring of eight Gaussians: a GAN and a WGAN-GP (dlcc's GANStep)")
    gen_eval = torch.Generator().manual_seed(123)
    real, real2 = ring(2000, gen_eval), ring(2000, gen_eval)
    z = torch.randn(2000, 2, generator=gen_eval)
    floor = frechet_distance_features(real.numpy(), real2.numpy())
    c.number("fd_real_vs_real", floor, "Fréchet distance, real vs real (the floor at 2000 samples)", ".3g")
    with torch.no_grad():
        torch.manual_seed(0)
        untrained = mlp(2, 2)(z)
    steps = c.steps(600, 2400)
    gan_end, gan_early = _train_gan(c, "gan", steps, 1, 2e-3, 0.999, z, snapshot=steps // 3)
    wgan_end, _ = _train_gan(c, "wgan-gp", c.steps(300, 800), 5, 1e-3, 0.9, z)
    results = {"untrained generator": untrained, f"GAN after {steps // 3} steps": gan_early,
               f"GAN after {steps} steps": gan_end, f"WGAN-GP after {c.steps(300, 800)} steps": wgan_end}
    rows = []
    for (name, x), key in zip(results.items(), ("untrained", "gan_early", "gan", "wgan")):
        modes, close = modes_covered(x)
        fd = frechet_distance_features(x.numpy(), real.numpy())
        rows.append([name, modes, close, fd])
        c.number(f"modes_{key}", modes, f"{name}: modes covered (of 8)", ".0f")
        c.number(f"fd_{key}", fd, f"{name}: Fréchet distance to the data", ".3g")
    c.table(["generator", "modes (of 8)", "fraction near a mode", "Fréchet distance"], rows, ".3g")
    fig, axes = new_figure(1, 4, size=(12, 3.3))
    panels = {"data": real, **{k: v for k, v in results.items() if k != "untrained generator"}}
    for ax, (name, x) in zip(axes, panels.items()):
        x = x.numpy()
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.4, color="C0" if name == "data" else "C3")
        ax.scatter(*ring_centres().numpy().T, marker="+", color="k", s=40)
        ax.set_xlim(-3.2, 3.2)
        ax.set_ylim(-3.2, 3.2)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    c.figure("mode_collapse", fig, "Eight Gaussians on a ring (left) and 2,000 samples (the same z) "
             "of a GAN part-way and at the end of training, and of a WGAN-GP with five critic steps "
             "per generator step. The table counts the modes each generator reaches (at least 2 % "
             "of its samples within three standard deviations of a centre).")


def run(c) -> None:
    fig = _optimal_discriminator(c)
    _saturation(c, fig)
    _js_vs_wasserstein(c)
    _mode_collapse(c)
