"""Prologue companion: why "more data, bigger models" became the recipe.

Trains the same kind of MLP on MNIST-1D (embedded, no download) while varying (1) the number
of training examples and (2) the width of the network, and fits a power law to the test error
in each case. Prints the errors and the fitted exponents; draws both curves on log-log axes.
"""

from __future__ import annotations

import numpy as np
import torch

from dlcc.data import load_mnist1d
from dlcc.lectures.plotting import new_figure, plain_log_ticks
from dlcc.lectures.torchfit import accuracy, fit
from dlcc.models.mlp import MLP
from dlcc.models.summary import count_params


def _power_law(x, err) -> tuple[float, float]:
    """Fit err = a * x^(-k) by least squares in log-log space; returns (a, k)."""
    slope, intercept = np.polyfit(np.log(x), np.log(err), 1)
    return float(np.exp(intercept)), float(-slope)


BATCH = 128


def _epochs(n: int, steps: int) -> int:
    """Epochs giving about `steps` optimizer steps on n examples, so every run gets the same
    number of updates and only the data (or the model) changes."""
    return max(1, round(steps / -(-n // BATCH)))


def _trained(hidden, x, y, steps, seed=0) -> MLP:
    torch.manual_seed(seed)
    model = MLP(40, hidden, num_classes=10)
    fit(model, x, y, epochs=_epochs(len(x), steps), lr=3e-3, batch_size=BATCH, seed=seed)
    return model


def run(c) -> None:
    data = load_mnist1d()
    x, y = (torch.from_numpy(a) for a in data["train"])
    xt, yt = (torch.from_numpy(a) for a in data["test"])
    y, yt = y.long(), yt.long()
    seeds = range(c.steps(1, 2))
    steps = c.steps(600, 1200)

    c.section("1. More data: test error vs number of training examples (MLP 40-128-128-10)")
    sizes = [250, 500, 1000, 2000, 4000]
    rng = np.random.default_rng(0)
    errors = []
    for n in c.progress(sizes, "data scaling"):
        errs = []
        for s in seeds:
            idx = torch.from_numpy(rng.permutation(len(x))[:n])
            model = _trained([128, 128], x[idx], y[idx], steps, seed=s)
            errs.append(1.0 - accuracy(model, xt, yt))
        errors.append(float(np.mean(errs)))
    c.table(["train examples", "test error"], [[n, e] for n, e in zip(sizes, errors)])
    a_d, k_d = _power_law(sizes, errors)
    c.number("data_exponent", k_d, "fitted exponent k in error ~ a * n^-k (data)", ".3f")
    c.number("error_4000", errors[-1], "test error with all 4000 examples", ".3f")

    c.section("2. Bigger models: test error vs parameters (one hidden layer, all 4000 examples)")
    widths = [4, 8, 16, 32, 64, 128, 256]
    params, werr = [], []
    for w in c.progress(widths, "model scaling"):
        params.append(count_params(MLP(40, [w], num_classes=10)))
        werr.append(float(np.mean([1.0 - accuracy(_trained([w], x, y, steps, s), xt, yt)
                                   for s in seeds])))
    c.table(["width", "parameters", "test error"], [[w, p, e] for w, p, e in zip(widths, params, werr)])
    a_m, k_m = _power_law(params, werr)
    c.number("model_exponent", k_m, "fitted exponent k in error ~ a * params^-k (model)", ".3f")

    fig, (ax1, ax2) = new_figure(1, 2, size=(9, 3.6))
    for ax, xs, es, (a, k), label in ((ax1, sizes, errors, (a_d, k_d), "training examples"),
                                      (ax2, params, werr, (a_m, k_m), "parameters")):
        ax.loglog(xs, es, "o-", label="measured")
        grid = np.geomspace(min(xs), max(xs), 50)
        ax.loglog(grid, a * grid ** -k, "--", label=f"fit: error ∝ x^-{k:.2f}")
        ax.set_xlabel(label)
        ax.set_ylabel("test error")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        plain_log_ticks(ax)
    ax1.set_title("more data")
    ax2.set_title("bigger model")
    c.figure("scaling", fig, "Test error of an MLP on MNIST-1D falls roughly as a power law in "
             "the number of training examples (left) and in the number of parameters (right).")

    c.section("3. Where the gains go: per-class errors with 250 vs 4000 examples")
    per_class = []
    for n in (250, 4000):
        idx = torch.from_numpy(np.random.default_rng(1).permutation(len(x))[:n])
        model = _trained([128, 128], x[idx], y[idx], steps)
        with torch.no_grad():
            pred = model(xt).argmax(1)
        per_class.append([float((pred[yt == k] != k).float().mean()) for k in range(10)])
    fig, ax = new_figure(size=(6.5, 3.4))
    ks = np.arange(10)
    ax.bar(ks - 0.2, per_class[0], 0.4, label="250 examples")
    ax.bar(ks + 0.2, per_class[1], 0.4, label="4000 examples")
    ax.set_xticks(ks)
    ax.set_xlabel("digit class")
    ax.set_ylabel("test error")
    ax.legend()
    c.figure("per_class", fig, "Per-class test error: sixteen times more data helps every class, "
             "the hard ones most in absolute terms.")
    c.number("classes_improved", sum(b < a for a, b in zip(*per_class)),
             "classes whose error fell with more data (of 10)", ".0f")
