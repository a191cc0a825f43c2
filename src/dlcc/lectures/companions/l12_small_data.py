"""Lecture 12 companion: learning from small data, on MNIST-1D (generated offline).

MNIST-1D's examples are 40-sample signals: ten digit-like templates, each shifted, scaled,
sheared and noised, so that nearest neighbours in raw samples do poorly and features that find a
pattern wherever it sits do well. The classes are split: digits 0-4 are the *source* (plenty of
labels), 5-9 the *target* (a few labels each), so nothing below trains on a target class before
it is scored.

1. Transfer (dlcc.transfer): a small CNN backbone is trained on the source classes; on the
   target classes, from scratch vs a linear probe on the frozen backbone vs fine-tuning with
   discriminative learning rates, for 1 to 30 (quick) labels per class: a learning curve.
2. Prototypical networks (dlcc.fewshot): an encoder meta-trained on 5-way episodes of the source
   classes, scored on 5-way K-shot episodes of the target classes, against the raw signal, a random
   encoder and the supervised backbone of section 1 used the same way.
3. MAML (dlcc.fewshot) on the MAML paper's sine-wave regression tasks: the meta-gradient split
   into its first-order part and the Hessian-vector-product term, checked against finite
   differences; then the query error of new waves adapted from a MAML initialisation vs a
   random one.
4. NT-Xent (dlcc.contrastive): the loss on toy batches of embeddings (pairs aligned and spread,
   aligned but crowded, random, collapsed) across temperatures, and how the temperature shares
   the gradient among the negatives.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcc.contrastive import nt_xent, positive_accuracy
from dlcc.data.embedded import load_mnist1d
from dlcc.fewshot import (
    EpisodeSampler,
    evaluate_episodes,
    finite_difference_hvp,
    hvp,
    maml_meta_gradient_parts,
    protonet_loss,
    protonet_predict,
)
from dlcc.lectures.plotting import new_figure, plain_log_ticks
from dlcc.lectures.torchfit import accuracy, fit
from dlcc.transfer import TransferNet, discriminative_groups

SOURCE, TARGET = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)


class SignalBackbone(nn.Module):
    """`[B, 1, 40]` -> features `[B, 320]`; three convolutional stages, input first (the order
    `dlcc.transfer.discriminative_groups` reads). Convolutions find a pattern wherever it sits
    in the signal, which is what MNIST-1D's shifted and scaled digits need."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv1d(1, 32, 5, padding=2), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv1d(32, 32, 3, padding=1, stride=2), nn.ReLU())
        self.conv3 = nn.Sequential(nn.Conv1d(32, 32, 3, padding=1, stride=2), nn.ReLU(), nn.Flatten())
        self.out_features = 32 * 10

    def forward(self, x):
        return self.conv3(self.conv2(self.conv1(x)))


def signals():
    """MNIST-1D as tensors: {"train": (x [4000, 1, 40], y [4000]), "test": (x [1000, 1, 40], y)}."""
    return {k: (torch.from_numpy(x)[:, None], torch.from_numpy(y)) for k, (x, y) in load_mnist1d().items()}


def _classes(x, y, classes):
    """Rows of `classes`, labels renumbered 0..len(classes)-1 in the given order."""
    keep = torch.isin(y, torch.tensor(classes))
    relabel = torch.full((10,), -1, dtype=torch.int64)
    relabel[torch.tensor(classes)] = torch.arange(len(classes))
    return x[keep], relabel[y[keep]]


def _balanced(y, per_class, seed):
    """Indices of `per_class` examples of every class in `y`, drawn with `seed`."""
    g = torch.Generator().manual_seed(seed)
    return torch.cat([idx[torch.randperm(len(idx), generator=g)[:per_class]]
                      for idx in ((y == c).nonzero().flatten() for c in y.unique())])


# -- 1. transfer ----------------------------------------------------------------------------

def _pretrain(c, data):
    c.section("1a. A backbone trained on the source digits 0-4")
    x_tr, y_tr = _classes(*data["train"], SOURCE)
    x_te, y_te = _classes(*data["test"], SOURCE)
    torch.manual_seed(0)
    net = TransferNet(SignalBackbone(), len(SOURCE))
    fit(net, x_tr, y_tr, epochs=c.steps(15, 30), lr=3e-3, batch_size=64)
    c.say(f"{len(x_tr)} labelled source signals; the backbone maps a 40-sample signal to 320 features")
    c.number("source_accuracy", accuracy(net, x_te, y_te), "test accuracy on the source classes 0-4", ".3f")
    return net.backbone


def _train_mode(mode, backbone, x, y, steps, seed):
    """One target model trained full-batch for `steps` Adam steps; returns it in eval mode."""
    torch.manual_seed(seed)
    if mode == "scratch":
        net = TransferNet(SignalBackbone(), len(TARGET))
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    elif mode == "probe":
        net = TransferNet(copy.deepcopy(backbone), len(TARGET), frozen=True)
        opt = torch.optim.Adam(net.head.parameters(), lr=1e-2)
    else:   # fine-tune: head at 3e-3, the embedding at 1e-3, conv2 at 3e-4, conv1 at 1e-4
        net = TransferNet(copy.deepcopy(backbone), len(TARGET))
        opt = torch.optim.Adam(discriminative_groups(net, lr=3e-3, factor=1 / 3))
    net.train()
    for _ in range(steps):
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


def _transfer(c, backbone, data):
    c.section("1b. Few labels of the target digits 5-9: from scratch, linear probe, fine-tune")
    x_pool, y_pool = _classes(*data["train"], TARGET)
    x_te, y_te = _classes(*data["test"], TARGET)
    counts = [1, 3, 10, 30] if c.quick else [1, 2, 5, 10, 20, 50]
    repeats, steps = c.steps(3, 5), c.steps(80, 150)
    modes = ("scratch", "probe", "finetune")
    curves = {m: [] for m in modes}
    for k in counts:
        for m in modes:
            accs = []
            for r in range(repeats):
                idx = _balanced(y_pool, k, seed=100 * k + r)
                accs.append(accuracy(_train_mode(m, backbone, x_pool[idx], y_pool[idx], steps, r), x_te, y_te))
            curves[m].append(float(np.mean(accs)))
    c.say(f"test accuracy on {len(x_te)} target test signals, mean of {repeats} draws of the labelled set")
    c.table(["labels per class", *modes], [[k, *(curves[m][i] for m in modes)] for i, k in enumerate(counts)], ".3f")
    for m in modes:
        c.number(f"{m}_1_label", curves[m][0], f"{m}: accuracy with 1 label per class", ".3f")
        c.number(f"{m}_most_labels", curves[m][-1], f"{m}: accuracy with {counts[-1]} labels per class", ".3f")
    fig, ax = new_figure(size=(6.2, 3.8))
    for m, style in zip(modes, ("s--", "o-", "^-")):
        ax.plot(counts, curves[m], style, label={"scratch": "from scratch", "probe": "linear probe (frozen)",
                                                 "finetune": "fine-tune (discriminative LRs)"}[m])
    ax.set_xscale("log")
    ax.set_xticks(counts)
    ax.set_xticklabels([str(k) for k in counts])
    plain_log_ticks(ax)
    ax.axhline(1 / len(TARGET), color="0.6", ls=":", label="chance")
    ax.set_xlabel("labelled images per target class")
    ax.set_ylabel("test accuracy, digits 5-9")
    ax.legend(fontsize=8)
    c.figure("transfer_curve", fig, "Learning curves on digits 5-9, which the backbone never saw. The "
             "backbone was trained on digits 0-4; the linear probe trains only a new head on its frozen "
             "features, fine-tuning trains everything with smaller learning rates for earlier layers, and "
             "the same network from scratch learns from the few target labels alone.")


# -- 2. prototypical networks ----------------------------------------------------------------

def _protonet(c, backbone, data):
    c.section("2. Prototypical networks: 5-way K-shot episodes of digits the encoder never saw")
    x_tr, y_tr = data["train"]
    x_te, y_te = data["test"]
    torch.manual_seed(0)
    encoder = SignalBackbone()
    opt = torch.optim.Adam(encoder.parameters(), lr=1e-3)
    train_eps = EpisodeSampler(x_tr, y_tr, SOURCE, ways=5, shots=5, queries=10, seed=0)
    encoder.train()
    episodes = c.steps(500, 1500)
    for ep in train_eps.take(episodes):
        loss, _ = protonet_loss(encoder, ep)
        opt.zero_grad()
        loss.backward()
        opt.step()
    c.say(f"ProtoNet encoder meta-trained on {episodes} episodes of digits 0-4 (5-way 5-shot, 10 queries)")
    torch.manual_seed(1)
    encoders = {"raw signal": nn.Flatten(), "random encoder": SignalBackbone(),
                "supervised backbone (section 1)": backbone, "ProtoNet encoder": encoder}
    shots = [1, 5, 10]
    n_eval = c.steps(100, 400)
    results = {name: [] for name in encoders}
    for k in shots:
        for name, enc in encoders.items():
            sampler = EpisodeSampler(x_te, y_te, TARGET, ways=5, shots=k, queries=10, seed=k)
            results[name].append(evaluate_episodes(enc, protonet_predict, sampler, n_eval))
    c.say(f"mean accuracy (± 95 % interval) over {n_eval} test episodes of digits 5-9, 10 queries per class")
    c.table(["embedding", *(f"{k}-shot" for k in shots)],
            [[name, *(f"{r['accuracy']:.3f} ± {r['ci95']:.3f}" for r in rows)] for name, rows in results.items()])
    for key, name in (("raw", "raw signal"), ("random", "random encoder"),
                      ("supervised", "supervised backbone (section 1)"), ("protonet", "ProtoNet encoder")):
        c.number(f"{key}_1shot", results[name][0]["accuracy"], f"{name}: 5-way 1-shot accuracy", ".3f")
        c.number(f"{key}_5shot", results[name][1]["accuracy"], f"{name}: 5-way 5-shot accuracy", ".3f")
    fig, (a0, a1) = new_figure(1, 2, size=(10.5, 3.6), gridspec_kw={"width_ratios": [1.3, 1]})
    for name, rows in results.items():
        acc = np.array([r["accuracy"] for r in rows])
        ci = np.array([r["ci95"] for r in rows])
        a0.errorbar(shots, acc, yerr=ci, marker="o", capsize=3, label=name)
    a0.set_xticks(shots)
    a0.set_xlabel("shots (labelled examples per class)")
    a0.set_ylabel("5-way query accuracy, digits 5-9")
    a0.axhline(0.2, color="0.6", ls=":")
    a0.legend(fontsize=7)
    _embedding_panel(a1, encoder, x_te, y_te)
    c.figure("protonet", fig, "Left: nearest-prototype classification of unseen digits 5-9 in four embeddings, "
             "against the number of shots (error bars: 95 % intervals over test episodes). Right: the "
             "ProtoNet embedding of the target test digits projected on its first two principal axes, with "
             "the prototypes of one 5-shot episode (stars); the encoder never saw these classes.")


def _embedding_panel(ax, encoder, x, y):
    keep = y >= 5
    with torch.no_grad():
        z = encoder(x[keep])
    ep = EpisodeSampler(x, y, TARGET, ways=5, shots=5, queries=1, seed=7).sample()
    with torch.no_grad():
        proto = torch.stack([encoder(ep.support_x[ep.support_y == i]).mean(0) for i in range(5)])
    mean = z.mean(0)
    _, _, v = torch.pca_lowrank(z - mean, q=2, center=False)
    p, pp = ((z - mean) @ v).numpy(), ((proto - mean) @ v).numpy()
    cmap = {5: "C0", 6: "C1", 7: "C2", 8: "C3", 9: "C4"}
    for d in TARGET:
        sel = (y[keep] == d).numpy()
        ax.scatter(p[sel, 0], p[sel, 1], s=8, alpha=0.5, color=cmap[d], label=str(d))
    for i, d in enumerate(ep.classes.tolist()):
        ax.scatter(pp[i, 0], pp[i, 1], s=180, marker="*", color=cmap[d], edgecolor="k")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("ProtoNet embedding of digits 5-9", fontsize=9)
    ax.legend(fontsize=7, markerscale=1.5, loc="best")


# -- 3. MAML ---------------------------------------------------------------------------------

class SineTasks:
    """The MAML paper's toy family: regress y = A sin(x + φ), A ~ U[0.1, 5], φ ~ U[0, π], x ~ U[-5, 5].
    `sample()` gives (support_x, support_y, query_x, query_y), each `[k, 1]`, plus (A, φ)."""

    def __init__(self, k: int = 10, seed: int = 0):
        self.k, self.g = k, torch.Generator().manual_seed(seed)

    def sample(self):
        amp = 0.1 + 4.9 * float(torch.rand(1, generator=self.g))
        phase = math.pi * float(torch.rand(1, generator=self.g))
        x = 10 * torch.rand(2 * self.k, 1, generator=self.g) - 5
        y = amp * torch.sin(x + phase)
        return x[:self.k], y[:self.k], x[self.k:], y[self.k:], (amp, phase)


def _regressor():
    """`[B, 1]` -> `[B, 1]`: the paper's MLP with two hidden layers of 40 ReLUs."""
    return nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1))


def _mse(net, names, x, y):
    """params (a list, in `names` order) -> the mean squared error of `net` on (x, y)."""
    return lambda ps: F.mse_loss(torch.func.functional_call(net, dict(zip(names, ps)), (x,)), y)


def _adapt_curve(net, names, start, task, alpha, steps):
    """Query MSE after 0..steps plain SGD steps on the support set, and the final weights."""
    sx, sy, qx, qy, _ = task
    w, errs = [p.detach().clone().requires_grad_(True) for p in start], []
    for i in range(steps + 1):
        errs.append(float(_mse(net, names, qx, qy)(w).detach()))
        if i < steps:
            grads = torch.autograd.grad(_mse(net, names, sx, sy)(w), w)
            w = [(p - alpha * g).detach().requires_grad_(True) for p, g in zip(w, grads)]
    return errs, w


def _maml(c):
    c.section("3. MAML on sine waves: the meta-gradient, its Hessian-vector product, a learned start")
    alpha = 0.01
    torch.manual_seed(0)
    net = _regressor().double()
    names = [n for n, _ in net.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for p in net.parameters()]
    sx, sy, qx, qy, _ = SineTasks(seed=3).sample()
    support, query = _mse(net, names, sx.double(), sy.double()), _mse(net, names, qx.double(), qy.double())
    parts = maml_meta_gradient_parts(support, query, params, inner_lr=alpha)
    flat = {k: torch.cat([t.flatten() for t in v]) for k, v in parts.items()}
    c.number("maml_identity_error", (flat["full"] - (flat["first_order"] - flat["hvp_term"])).abs().max(),
             "max |full - (first-order - α·H·g)| over all weights (float64)", ".2e")
    c.number("hvp_share", flat["hvp_term"].norm() / flat["full"].norm(),
             f"|α·H·g| / |full meta-gradient| for one inner step of size α = {alpha}", ".3f")
    c.number("first_order_cosine", F.cosine_similarity(flat["full"], flat["first_order"], dim=0),
             "cosine between the full and the first-order meta-gradient", ".3f")
    g = parts["first_order"]
    exact = torch.cat([t.flatten() for t in hvp(support, params, g)])
    approx = torch.cat([t.flatten() for t in finite_difference_hvp(support, params, g, eps=1e-4)])
    c.number("hvp_fd_rel_error", (exact - approx).norm() / exact.norm(),
             "relative difference of H·g by double backprop and by central differences", ".2e")

    # Second-order MAML, one inner step, meta-batches of 4 sine tasks (float32).
    torch.manual_seed(0)
    net = _regressor()
    theta = [p.detach().clone().requires_grad_(True) for p in net.parameters()]
    start = [p.detach().clone() for p in theta]
    opt = torch.optim.Adam(theta, lr=1e-3)
    tasks, steps, batch = SineTasks(seed=1), c.steps(500, 2000), 4
    for _ in range(steps):
        grads = [torch.zeros_like(p) for p in theta]
        for _ in range(batch):
            sx, sy, qx, qy, _ = tasks.sample()
            full = maml_meta_gradient_parts(_mse(net, names, sx, sy), _mse(net, names, qx, qy), theta, alpha)["full"]
            for acc, f in zip(grads, full):
                acc += f / batch
        for p, grad in zip(theta, grads):
            p.grad = grad
        opt.step()
    n_eval, k_steps = c.steps(100, 300), 10
    test = SineTasks(seed=99)
    curves = {"random initialisation": [], "MAML initialisation": []}
    for _ in range(n_eval):
        task = test.sample()
        curves["random initialisation"].append(_adapt_curve(net, names, start, task, alpha, k_steps)[0])
        curves["MAML initialisation"].append(_adapt_curve(net, names, theta, task, alpha, k_steps)[0])
    mean = {k: np.mean(v, axis=0) for k, v in curves.items()}
    c.say(f"second-order MAML: {steps} meta-steps of {batch} tasks, 10 support and 10 query points each, one "
          f"inner step of size {alpha}; then {n_eval} new sine waves, adapted by plain SGD on 10 points")
    c.table(["start", *(f"MSE after {i}" for i in (0, 1, 5, 10))],
            [[k, *(float(v[i]) for i in (0, 1, 5, 10))] for k, v in mean.items()], ".3f")
    c.number("random_mse_after_10", mean["random initialisation"][-1], "random start: query MSE after 10 steps", ".3f")
    c.number("maml_mse_after_1", mean["MAML initialisation"][1], "MAML start: query MSE after 1 step", ".3f")
    c.number("maml_mse_after_10", mean["MAML initialisation"][-1], "MAML start: query MSE after 10 steps", ".3f")

    task = SineTasks(seed=7).sample()
    sx, sy, _, _, (amp, phase) = task
    grid = torch.linspace(-5, 5, 200)[:, None]
    fig, (a0, a1) = new_figure(1, 2, size=(10.5, 3.6))
    a0.plot(grid, amp * torch.sin(grid + phase), "k-", lw=2, label="the task")
    a0.plot(sx, sy, "k^", label="10 support points")
    for label, ws, n, style in (("MAML start, 0 steps", theta, 0, "C1:"), ("MAML start, 1 step", theta, 1, "C1--"),
                                ("MAML start, 10 steps", theta, 10, "C1-"), ("random start, 10 steps", start, 10, "C0-")):
        w = _adapt_curve(net, names, ws, task, alpha, n)[1]
        with torch.no_grad():
            a0.plot(grid, torch.func.functional_call(net, dict(zip(names, w)), (grid,)), style, label=label)
    a0.set_xlabel("x")
    a0.legend(fontsize=7)
    for k, v in mean.items():
        a1.plot(range(k_steps + 1), v, "o-", label=k)
    a1.set_xlabel("SGD steps on the 10 support points")
    a1.set_ylabel("query MSE (mean of new tasks)")
    a1.legend(fontsize=8)
    c.figure("maml", fig, "MAML on the sine-wave family. Left: one new wave, its ten support points, and the "
             "network's fit from the MAML initialisation after 0, 1 and 10 gradient steps, against ten steps "
             "from a random initialisation. Right: the query error of new tasks as the inner steps go on: "
             "from the learned start one step already beats ten steps from a random start.")


# -- 4. NT-Xent ------------------------------------------------------------------------------

def _toy_batches(b=16, d=32, seed=0):
    """Pairs of views `(z1, z2)`, each `[b, d]`, for four situations of an encoder."""
    g = torch.Generator().manual_seed(seed)
    spread = F.normalize(torch.randn(b, d, generator=g), dim=1)
    noise = 0.15 * torch.randn(b, d, generator=g)
    centre = F.normalize(torch.randn(1, d, generator=g), dim=1)
    crowded = F.normalize(centre + 0.15 * spread, dim=1)
    return {
        "pairs aligned, images spread": (spread, spread + noise),
        "pairs aligned, images crowded": (crowded, crowded + 0.15 * noise),
        "random pairs": (spread, F.normalize(torch.randn(b, d, generator=g), dim=1)),
        "collapsed (one point)": (centre.expand(b, d), centre.expand(b, d)),
    }


def _ntxent(c):
    c.section("4. NT-Xent on toy batches: what the contrastive loss rewards")
    batches = _toy_batches()
    b = 16
    taus = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
    table = {name: [float(nt_xent(z1, z2, t)) for t in taus] for name, (z1, z2) in batches.items()}
    c.say(f"B = {b} images, two views each, D = 32; a (2B - 1) = {2 * b - 1}-way choice of the partner")
    c.table(["batch", *(f"τ={t}" for t in taus)], [[n, *v] for n, v in table.items()], ".3f")
    i01 = taus.index(0.1)
    c.number("ntxent_spread_tau0.1", table["pairs aligned, images spread"][i01], "aligned and spread, τ = 0.1", ".3f")
    c.number("ntxent_crowded_tau0.1", table["pairs aligned, images crowded"][i01], "aligned but crowded, τ = 0.1", ".3f")
    c.number("ntxent_random_tau0.1", table["random pairs"][i01], "random pairs, τ = 0.1", ".3f")
    c.number("ntxent_collapsed", table["collapsed (one point)"][i01], "collapsed, any τ", ".4f")
    c.number("log_2b_minus_1", math.log(2 * b - 1), "log(2B - 1), the loss of a blind guess", ".4f")
    z1, z2 = batches["pairs aligned, images spread"]
    c.number("positive_accuracy_spread", positive_accuracy(z1, z2), "aligned and spread: share whose nearest "
             "other embedding is the partner", ".3f")

    # How τ shares the gradient among negatives: the softmax weight of each negative of one anchor.
    g = torch.Generator().manual_seed(1)
    sims = torch.linspace(-0.3, 0.9, 30)
    sims = sims[torch.randperm(30, generator=g)]
    share = {t: torch.softmax(sims / t, 0) for t in (0.1, 0.5, 1.0)}
    c.number("hardest_share_tau0.1", share[0.1].max(), "τ = 0.1: the hardest of 30 negatives gets this share", ".3f")
    c.number("hardest_share_tau1", share[1.0].max(), "τ = 1: the hardest of 30 negatives gets this share", ".3f")

    fig, (a0, a1) = new_figure(1, 2, size=(10.5, 3.6))
    for name, vals in table.items():
        a0.plot(taus, vals, "o-", label=name)
    a0.axhline(math.log(2 * b - 1), color="0.6", ls=":", label="log(2B - 1)")
    a0.set_xscale("log")
    a0.set_xticks(taus)
    a0.set_xticklabels([str(t) for t in taus])
    plain_log_ticks(a0)
    a0.set_xlabel("temperature τ")
    a0.set_ylabel("NT-Xent loss")
    a0.legend(fontsize=7)
    order = torch.argsort(sims)
    for t, w in share.items():
        a1.plot(sims[order].numpy(), w[order].numpy(), "o-", ms=3, label=f"τ = {t}")
    a1.set_xlabel("cosine similarity of a negative to the anchor")
    a1.set_ylabel("its share of the gradient (softmax weight)")
    a1.legend(fontsize=8)
    c.figure("ntxent", fig, "Left: the NT-Xent loss of four toy batches across temperatures. Low loss needs "
             "both things at once: each view close to its partner (alignment) and the images far from each "
             "other (uniformity); a collapsed encoder scores log(2B - 1) whatever τ is. Right: the softmax "
             "weight each of 30 negatives gets in the gradient of one anchor; a small τ pushes almost all "
             "of it onto the most similar (hardest) negatives.")


def run(c) -> None:
    data = signals()
    backbone = _pretrain(c, data)
    _transfer(c, backbone, data)
    _protonet(c, backbone, data)
    _maml(c)
    _ntxent(c)
