"""Lecture 4 companion: optimisers, learning-rate schedules, hyper-parameter search.

1. Ten optimisers on an ill-conditioned 2-D quadratic (the Hessian's condition number is
   printed): GD, momentum, Nesterov, AdaGrad, AdaDelta, RMSProp, Adam (dlcc.scratch.optim and
   torch.optim), Newton, BFGS and L-BFGS (written out below, with a backtracking line search).
2. The learning-rate range test (dlcc.train.lr_find) on an MLP, and what its suggestion buys.
3. Schedules: step, exponential, cosine, cyclic, one-cycle (cos and linear), warm-up.
4. A 2-D slice of a trained network's loss landscape.
5. Grid vs random search when one of two hyper-parameters matters.
6. Successive halving (27x1, 9x3, 3x9, 1x27 epochs) vs random search of equal budget.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from dlcc.data import load_digits
from dlcc.lectures.plotting import new_figure
from dlcc.lectures.torchfit import run_epochs
from dlcc.scratch.optim import SGD, AdaGrad, Adam, RMSprop
from dlcc.scratch.schedules import CosineAnnealingLR, ExponentialLR, LinearWarmup, OneCycleLR, StepLR

START = np.array([-4.0, 2.5])


def _quadratic(kappa: float = 25.0, angle_deg: float = 25.0):
    """f(w) = 1/2 w^T H w with eigenvalues 1 and kappa, axes rotated by `angle_deg`."""
    t = math.radians(angle_deg)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    hess = rot @ np.diag([1.0, kappa]) @ rot.T
    return hess, (lambda w: 0.5 * w @ hess @ w), (lambda w: hess @ w)


def _first_order(make, grad_fn, steps):
    w = START.copy()
    g = np.zeros(2)
    opt = make([(w, g)])
    path = [w.copy()]
    for _ in range(steps):
        g[...] = grad_fn(w)
        opt.step()
        path.append(w.copy())
    return np.array(path)


def _adadelta(grad_fn, steps, lr=1.0, rho=0.95):
    w = torch.tensor(START, requires_grad=True)
    opt = torch.optim.Adadelta([w], lr=lr, rho=rho)
    path = [START.copy()]
    for _ in range(steps):
        w.grad = torch.from_numpy(grad_fn(w.detach().numpy()))
        opt.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


def _line_search(f, w, g, d, alpha=1.0, c1=1e-4, shrink=0.5):
    """Backtracking until the Armijo condition f(w + a d) <= f(w) + c1 a g.d holds."""
    while f(w + alpha * d) > f(w) + c1 * alpha * g @ d and alpha > 1e-10:
        alpha *= shrink
    return alpha


def _newton(f, grad_fn, hess, steps):
    w, path = START.copy(), [START.copy()]
    for _ in range(steps):
        w = w - np.linalg.solve(hess, grad_fn(w))
        path.append(w.copy())
    return np.array(path)


def _bfgs(f, grad_fn, steps):
    """BFGS: keep an inverse-Hessian estimate B, updated so that B y = s (the secant condition)."""
    w, inv_h, path = START.copy(), np.eye(2), [START.copy()]
    g = grad_fn(w)
    for _ in range(steps):
        if np.linalg.norm(g) < 1e-12:
            break
        d = -inv_h @ g
        s = _line_search(f, w, g, d) * d
        w = w + s
        g_new = grad_fn(w)
        y = g_new - g
        if s @ y > 1e-16:
            rho = 1.0 / (s @ y)
            eye = np.eye(2)
            inv_h = (eye - rho * np.outer(s, y)) @ inv_h @ (eye - rho * np.outer(y, s)) + rho * np.outer(s, s)
        g = g_new
        path.append(w.copy())
    return np.array(path)


def _lbfgs(f, grad_fn, steps, memory=3):
    """L-BFGS: the BFGS direction from the last `memory` (s, y) pairs, by the two-loop recursion."""
    w, path, pairs = START.copy(), [START.copy()], []
    g = grad_fn(w)
    for _ in range(steps):
        if np.linalg.norm(g) < 1e-12:
            break
        q, alphas = g.copy(), []
        for s, y in reversed(pairs):
            a = (s @ q) / (y @ s)
            alphas.append(a)
            q -= a * y
        if pairs:
            s, y = pairs[-1]
            q *= (s @ y) / (y @ y)            # scale the start matrix by the latest curvature
        for (s, y), a in zip(pairs, reversed(alphas)):
            q += s * (a - (y @ q) / (y @ s))
        d = -q
        step = _line_search(f, w, g, d) * d
        w = w + step
        g_new = grad_fn(w)
        pairs = (pairs + [(step, g_new - g)])[-memory:]
        g = g_new
        path.append(w.copy())
    return np.array(path)


def _optimisers(c):
    c.section("1. Ten optimisers on f(w) = 1/2 w^T H w, eigenvalues 1 and 25, axes rotated 25 degrees")
    hess, f, grad_fn = _quadratic()
    eig = np.linalg.eigvalsh(hess)
    c.number("condition_number", eig[-1] / eig[0], "condition number of H (largest / smallest eigenvalue)", ".3g")
    lr_gd = 2.0 / (eig[0] + eig[-1])           # the best constant step for plain GD
    steps = 60
    makers = {   # the first-order methods get their best learning rate from a grid (below)
        "momentum 0.9": lambda p, lr: SGD(p, lr=lr, momentum=0.9),
        "Nesterov 0.9": lambda p, lr: SGD(p, lr=lr, momentum=0.9, nesterov=True),
        "AdaGrad": lambda p, lr: AdaGrad(p, lr=lr),
        "RMSProp": lambda p, lr: RMSprop(p, lr=lr, alpha=0.9),
        "Adam": lambda p, lr: Adam(p, lr=lr),
    }
    lr_grid = np.geomspace(1e-3, 10, 41)
    runs = {"GD (lr 2/(λmin+λmax))": _first_order(lambda p: SGD(p, lr=lr_gd), grad_fn, steps)}
    chosen = {}
    for name, make in makers.items():
        with np.errstate(over="ignore", invalid="ignore"):   # large rates diverge; they lose
            finals = [f(_first_order(lambda p, lr=lr: make(p, lr), grad_fn, steps)[-1])
                      for lr in lr_grid]
        chosen[name] = float(lr_grid[int(np.nanargmin(finals))])
        runs[name] = _first_order(lambda p, lr=chosen[name]: make(p, lr), grad_fn, steps)
    # AdaDelta has no learning rate in its paper (torch's lr=1 is that form): its step is
    # sqrt(E[dw^2] + eps) / sqrt(E[g^2] + eps) * g, so it starts at about sqrt(eps) per step.
    runs["AdaDelta (torch, lr 1)"] = _adadelta(grad_fn, steps, lr=1.0, rho=0.95)
    c.number("adadelta_first_step", np.linalg.norm(runs["AdaDelta (torch, lr 1)"][1] - START),
             "length of AdaDelta's first step (eps = 1e-6)", ".2e")
    runs |= {"Newton": _newton(f, grad_fn, hess, steps), "BFGS": _bfgs(f, grad_fn, steps),
             "L-BFGS (m = 3)": _lbfgs(f, grad_fn, steps)}
    c.say("learning rates (best of 41 on a log grid from 1e-3 to 10): " +
          ", ".join(f"{k} {v:.3g}" for k, v in chosen.items()))
    rows = []
    for name, path in runs.items():
        losses = [f(w) for w in path]
        hit = next((i for i, v in enumerate(losses) if v < 1e-6), None)
        rows.append([name, losses[-1] if losses[-1] > 1e-300 else 0.0, "-" if hit is None else str(hit)])
    c.table(["optimiser", f"f after {steps} steps", "steps to f < 1e-6"], rows, ".3g")
    c.number("gd_rate_bound", (eig[-1] - eig[0]) / (eig[-1] + eig[0]),
             "GD's error shrink factor per step at best, (κ-1)/(κ+1)", ".3f")
    xs, ys = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-3.5, 3.5, 200))
    zz = 0.5 * (hess[0, 0] * xs ** 2 + 2 * hess[0, 1] * xs * ys + hess[1, 1] * ys ** 2)
    fig, axes = new_figure(2, 5, size=(14, 5.6), sharex=True, sharey=True)
    for ax, (name, path) in zip(axes.flat, runs.items()):
        ax.contour(xs, ys, zz, levels=np.geomspace(0.01, 300, 14), colors="0.7", linewidths=0.6)
        ax.plot(path[:, 0], path[:, 1], "C3.-", ms=3, lw=1)
        ax.plot(0, 0, "k*", ms=8)
        ax.set_title(name, fontsize=9)
    c.figure("trajectories", fig, "Sixty steps of each optimiser (first-order ones at their best "
             "learning rate) from the same start on a quadratic whose Hessian has condition number "
             "25. GD zig-zags across the narrow valley; momentum and Nesterov overshoot but travel "
             "along it; the adaptive methods rescale each coordinate; Newton lands on the minimum "
             "in one step, BFGS and L-BFGS in a few.")
    fig, ax = new_figure(size=(6.5, 3.8))
    for name, path in runs.items():
        ax.semilogy([max(f(w), 1e-16) for w in path], label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("f(w)")
    ax.set_ylim(1e-16, 1e3)
    ax.legend(fontsize=7, ncol=2)
    c.figure("convergence", fig, "Loss per step of the same ten runs (floored at 1e-16).")


def _digits_tensors():
    d = load_digits()
    x, y = (torch.from_numpy(a) for a in d["train"])
    xt, yt = (torch.from_numpy(a) for a in d["test"])
    return x.reshape(len(x), -1), y, xt.reshape(len(xt), -1), yt


def _mlp(seed=0, width=128):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))


def _train(model, x, y, epochs, lr, opt="sgd", schedule=None, batch=64, seed=0):
    optim = (torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9) if opt == "sgd"
             else torch.optim.Adam(model.parameters(), lr=lr))
    sched = schedule(optim, epochs * math.ceil(len(x) / batch)) if schedule else None
    run_epochs(model, x, y, optim, epochs=epochs, batch_size=batch, seed=seed,
               after_step=sched.step if sched else None)
    return model


@torch.no_grad()
def _acc(model, x, y):
    return (model(x).argmax(1) == y).float().mean().item()


def _lr_range_test(c):
    c.section("2. The learning-rate range test (dlcc.train.lr_find), MLP 64-128-128-10 on digits, SGD 0.9")
    from dlcc.train import lr_find

    x, y, xt, yt = _digits_tensors()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    result = lr_find(model, loader, nn.functional.cross_entropy, opt, start_lr=1e-5, end_lr=10.0,
                     num_iter=c.steps(120, 200), device="cpu")
    c.number("lr_steepest", result.steepest_lr, "suggested lr (steepest descent of the loss)", ".3g")
    c.number("lr_min_over_10", result.min_loss_lr / 10, "lr at the loss minimum / 10", ".3g")
    rows = []
    epochs = c.steps(5, 10)
    for label, lr in (("100x smaller", result.suggestion / 100), ("suggested", result.suggestion),
                      ("at the loss minimum", result.min_loss_lr)):
        rows.append([label, lr, _acc(_train(_mlp(), x, y, epochs, lr), xt, yt)])
    c.table(["learning rate", "value", f"test accuracy after {epochs} epochs"], rows, ".3g")
    c.number("acc_with_suggested_lr", rows[1][2], "test accuracy with the suggested lr", ".3f")
    fig, ax = new_figure(size=(6.5, 3.6))
    ax.semilogx(result.lrs, result.raw_losses, color="0.75", lw=1, label="loss per step")
    ax.semilogx(result.lrs, result.losses, "C0", lw=2, label="smoothed loss")
    ax.axvline(result.steepest_lr, color="C1", ls="--", label=f"steepest: {result.steepest_lr:.2g}")
    ax.axvline(result.min_loss_lr / 10, color="C2", ls=":", label=f"min / 10: {result.min_loss_lr / 10:.2g}")
    ax.set_ylim(0, max(result.losses[0] * 1.5, 1))
    ax.set_xlabel("learning rate (grows exponentially, one value per step)")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=8)
    c.figure("lr_range_test", fig, "The LR range test: train while the learning rate grows from 1e-5 "
             "each step; the loss first ignores it, then falls fastest, then blows up. A good "
             "learning rate sits where the fall is steepest.")


def _schedules(c):
    c.section("3. Learning-rate schedules over 100 steps (base or peak lr 0.1)")
    n = 100
    curves = {
        "StepLR (every 30, x0.5)": StepLR(None, base_lr=0.1, step_size=30, gamma=0.5).lrs(n),
        "ExponentialLR (0.97)": ExponentialLR(None, base_lr=0.1, gamma=0.97).lrs(n),
        "cosine annealing": CosineAnnealingLR(None, base_lr=0.1, T_max=n).lrs(n),
        "warm-up 10 then constant": LinearWarmup(None, base_lr=0.1, warmup_steps=10).lrs(n),
        "one-cycle (cos)": OneCycleLR(None, base_lr=0.1, max_lr=0.1, total_steps=n, cycle_momentum=False).lrs(n),
        "one-cycle (linear)": OneCycleLR(None, base_lr=0.1, max_lr=0.1, total_steps=n, anneal_strategy="linear",
                                         cycle_momentum=False).lrs(n),
    }
    p = torch.zeros(1, requires_grad=True)
    cyc = torch.optim.lr_scheduler.CyclicLR(torch.optim.SGD([p], lr=0.01), base_lr=0.01, max_lr=0.1,
                                            step_size_up=20, cycle_momentum=False)
    cyclic = []
    for _ in range(n):
        cyclic.append(cyc.get_last_lr()[0])
        cyc.optimizer.step()
        cyc.step()
    curves["cyclic (triangular, torch)"] = cyclic
    fig, ax = new_figure(size=(7, 3.8))
    for name, lrs in curves.items():
        ax.plot(lrs, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=7, ncol=2)
    c.figure("schedules", fig, "Learning-rate schedules as dlcc.scratch.schedules (and torch's CyclicLR) "
             "compute them.")
    x, y, xt, yt = _digits_tensors()
    epochs = c.steps(4, 8)
    const = _acc(_train(_mlp(), x, y, epochs, 0.05), xt, yt)
    one = _acc(_train(_mlp(), x, y, epochs, 0.05, schedule=lambda o, total: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.3, total_steps=total)), xt, yt)
    c.table(["schedule", f"test accuracy after {epochs} epochs"], [["constant lr 0.05", const],
                                                                   ["one-cycle, peak 0.3", one]], ".3f")
    c.number("one_cycle_minus_constant", one - const, "one-cycle minus constant (accuracy)", ".3f")


def _landscape(c):
    c.section("4. A 2-D slice of the loss landscape around a trained MLP (filter-normalised directions)")
    x, y, _, _ = _digits_tensors()
    model = _train(_mlp(), x, y, c.steps(5, 10), 0.05)
    base = [p.detach().clone() for p in model.parameters()]
    gen = torch.Generator().manual_seed(1)
    dirs = []
    for _ in range(2):
        d = [torch.randn(p.shape, generator=gen) for p in base]
        # scale each direction's rows to the norm of the weights' rows, so the slice's scale
        # means the same for every layer (Li et al. 2018)
        d = [di * (bi.norm(dim=-1, keepdim=True) / (di.norm(dim=-1, keepdim=True) + 1e-10)) if bi.dim() > 1
             else torch.zeros_like(bi) for di, bi in zip(d, base)]
        dirs.append(d)
    ticks = np.linspace(-1, 1, c.steps(21, 41))
    grid = np.zeros((len(ticks), len(ticks)))
    with torch.no_grad():
        for i, a in enumerate(ticks):
            for j, b in enumerate(ticks):
                for p, p0, d1, d2 in zip(model.parameters(), base, *dirs):
                    p.copy_(p0 + a * d1 + b * d2)
                grid[j, i] = nn.functional.cross_entropy(model(x), y).item()
        for p, p0 in zip(model.parameters(), base):
            p.copy_(p0)
    c.number("landscape_centre_loss", grid[len(ticks) // 2, len(ticks) // 2], "training loss at the trained weights", ".3g")
    c.number("landscape_max_loss", grid.max(), "largest loss on the slice", ".3g")
    fig, ax = new_figure(size=(5.2, 4.2))
    cs = ax.contourf(ticks, ticks, np.log10(grid), levels=20, cmap="viridis")
    ax.plot(0, 0, "r*", ms=10)
    fig.colorbar(cs, ax=ax, label="log10 training loss")
    ax.set_xlabel("direction 1")
    ax.set_ylabel("direction 2")
    c.figure("landscape", fig, "Training loss on a plane through the trained weights (star), spanned "
             "by two random filter-normalised directions.")


def _grid_vs_random(c):
    c.section("5. Grid vs random search, 9 trials, when only one of two hyper-parameters matters")
    important = lambda a: np.exp(-((a - 0.62) ** 2) / 0.01)  # noqa: E731  (peaked, unknown optimum)
    score = lambda a, b: important(a) + 0.02 * np.sin(3 * b)  # noqa: E731
    g = np.linspace(0.1, 0.9, 3)
    grid = np.array([(a, b) for a in g for b in g])
    rand = np.random.default_rng(0).uniform(0.1, 0.9, (9, 2))
    best_grid = max(score(a, b) for a, b in grid)
    best_rand = max(score(a, b) for a, b in rand)
    c.table(["search", "distinct values of the important parameter", "best score (max 1.02)"],
            [["3 x 3 grid", 3, best_grid], ["9 random points", 9, best_rand]], ".3f")
    c.number("grid_best", best_grid, "best score found by the grid", ".3f")
    c.number("random_best", best_rand, "best score found by random search", ".3f")
    c.say(f"log-uniform learning rates 10**uniform(-6, -1), 5 draws: "
          f"{', '.join(f'{v:.1e}' for v in 10 ** np.random.default_rng(1).uniform(-6, -1, 5))}")
    fig, axes = new_figure(1, 2, size=(9, 3.6), sharey=True)
    a = np.linspace(0, 1, 200)
    for ax, pts, title in ((axes[0], grid, "grid"), (axes[1], rand, "random")):
        ax.plot(a, important(a), "C0")
        ax.plot(pts[:, 0], [important(p) for p in pts[:, 0]], "C3o")
        for p in pts[:, 0]:
            ax.axvline(p, color="C3", lw=0.5, alpha=0.5)
        ax.set_title(f"{title}: {len(np.unique(np.round(pts[:, 0], 6)))} distinct values tried", fontsize=9)
        ax.set_xlabel("important hyper-parameter")
    axes[0].set_ylabel("validation score")
    c.figure("grid_vs_random", fig, "With nine trials, a 3 x 3 grid tests the important "
             "hyper-parameter at only three values; nine random trials test it at nine.")


def _successive_halving(c):
    c.section("6. Successive halving on digits (validation split): rungs 27x1, 9x3, 3x9, 1x27 epochs")
    x, y, xt, yt = _digits_tensors()
    rng = np.random.default_rng(0)
    perm = torch.from_numpy(rng.permutation(len(x)))
    xv, yv, xtr, ytr = x[perm[:300]], y[perm[:300]], x[perm[300:]], y[perm[300:]]
    n = 27                      # 27 x 1, 9 x 3, 3 x 9, 1 x 27 epochs: the lecture's example
    configs = [{"lr": float(10 ** rng.uniform(-4, 0)), "width": int(rng.choice([16, 64, 256]))} for _ in range(n)]
    alive = list(range(n))
    history: dict[int, list] = {i: [] for i in alive}
    models = {i: _mlp(seed=i, width=configs[i]["width"]) for i in alive}
    done_epochs = {i: 0 for i in alive}
    budget = 0
    rungs = []
    for epochs, keep in ((1, 9), (3, 3), (9, 1), (27, 1)):
        for i in alive:          # continue training each survivor up to `epochs` in total
            _train(models[i], xtr, ytr, epochs - done_epochs[i], configs[i]["lr"], opt="adam", seed=i)
            budget += epochs - done_epochs[i]
            done_epochs[i] = epochs
            history[i].append((epochs, _acc(models[i], xv, yv)))
        ranked = sorted(alive, key=lambda i: -history[i][-1][1])
        rungs.append([f"{len(alive)} x {epochs}", len(alive), history[ranked[0]][-1][1]])
        alive = ranked[:keep]
    winner = alive[0]
    c.table(["rung", "configs", "best validation accuracy"], rungs, ".3f")
    c.say(f"winner: lr {configs[winner]['lr']:.2e}, width {configs[winner]['width']}; epochs spent: {budget}")
    sh_test = _acc(models[winner], xt, yt)
    rand_ids = list(range(budget // 27))       # random search: the same budget, full 27 epochs each
    rand_best, rand_test = -1.0, 0.0
    for i in rand_ids:
        m = _train(_mlp(seed=i, width=configs[i]["width"]), xtr, ytr, 27, configs[i]["lr"], opt="adam", seed=i)
        val = _acc(m, xv, yv)
        if val > rand_best:
            rand_best, rand_test = val, _acc(m, xt, yt)
    c.table(["method", "configs tried", "test accuracy of the pick"],
            [["successive halving", n, sh_test], [f"random search, {len(rand_ids)} x 27 epochs", len(rand_ids), rand_test]],
            ".3f")
    c.number("halving_test_accuracy", sh_test, "test accuracy of the configuration successive halving picked", ".3f")
    c.number("random_search_test_accuracy", rand_test, "test accuracy of random search's pick (same budget)", ".3f")
    fig, ax = new_figure(size=(6.5, 3.8))
    for i, pts in history.items():
        e, a = zip(*pts)
        ax.plot(e, a, "o-", ms=3, lw=1, color="C3" if i == winner else "0.6", alpha=1 if i == winner else 0.6)
    ax.set_xscale("log", base=3)
    ax.set_xticks([1, 3, 9, 27], ["1", "3", "9", "27"])
    ax.set_xlabel("epochs trained")
    ax.set_ylabel("validation accuracy")
    c.figure("successive_halving", fig, "Successive halving: 27 random configurations get one epoch, "
             "the best third continue to three, and so on; the winner (red) is the only one trained "
             "for 27 epochs.")


def run(c) -> None:
    _optimisers(c)
    _lr_range_test(c)
    _schedules(c)
    _landscape(c)
    _grid_vs_random(c)
    _successive_halving(c)
