"""Lecture 1 companion: from a fitted line to a multi-layer perceptron, with the NumPy engine.

1. Linear regression by gradient descent (the course's y = 5x + 10 demo) vs the closed form.
2. Hand-crafted features vs end-to-end learning on 8x8 digits.
3. Broadcasting in a batched linear layer, and the softmax max-subtraction trick.
4. Activation functions and their derivatives (from the layers' own backward passes).
5. Why depth needs nonlinearity: three stacked linear layers are one linear map; a linear
   classifier vs an MLP on spirals.
6. Universal approximation: one hidden ReLU layer of growing width fits a curve.
7. Parameter counting: a small worked example and the A1 MNIST network.
"""

from __future__ import annotations

import numpy as np

from dlcc.data import load_digits
from dlcc.lectures.plotting import decision_map, new_figure
from dlcc.lectures.toydata import spiral
from dlcc.scratch import GELU, LeakyReLU, Linear, ReLU, Sigmoid, Tanh, cross_entropy, mlp, mse_loss
from dlcc.scratch.functional import softmax
from dlcc.scratch.optim import SGD, Adam


def _train(model, x, y, loss_fn, steps, lr, batch=None, rng=None, opt="adam"):
    """Full-batch (or mini-batch) training of a NumPy model; returns the loss per step."""
    optim = Adam(model, lr=lr) if opt == "adam" else SGD(model, lr=lr)
    losses = []
    for _ in range(steps):
        idx = slice(None) if batch is None else rng.integers(0, len(x), batch)
        loss, dout = loss_fn(model.forward(x[idx]), y[idx])
        model.backward(dout)
        optim.step()
        losses.append(loss)
    return losses


def _linear_regression(c):
    c.section("1. Linear regression: y = 5x + 10 + noise, 50 points, gradient descent on MSE")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (50, 1))
    y = 5 * x + 10 + rng.normal(0, 1.0, (50, 1))
    layer = Linear(1, 1, rng=0, dtype=np.float64)
    losses = _train(layer, x, y, mse_loss, steps=40, lr=0.1, opt="sgd")
    w, b = layer.params["weight"].item(), layer.params["bias"].item()
    design = np.hstack([x, np.ones_like(x)])
    w_star, b_star = np.linalg.lstsq(design, y, rcond=None)[0].ravel()
    c.table(["", "slope", "intercept", "train MSE"],
            [["gradient descent, 40 steps", w, b, losses[-1]],
             ["closed form (least squares)", w_star, b_star,
              float(np.mean((design @ [w_star, b_star] - y.ravel()) ** 2))]])
    c.number("gd_slope", w, "slope after 40 GD steps (true 5)")
    c.number("closed_form_slope", w_star, "least-squares slope")
    fig, (a1, a2) = new_figure(1, 2, size=(9, 3.4))
    grid = np.linspace(-1, 1, 50)
    a1.scatter(x, y, s=12, label="data")
    a1.plot(grid, w * grid + b, "C1", label=f"GD: {w:.2f}x + {b:.2f}")
    a1.plot(grid, w_star * grid + b_star, "k--", lw=1, label=f"closed form: {w_star:.2f}x + {b_star:.2f}")
    a1.legend(fontsize=8)
    a1.set_xlabel("x")
    a1.set_ylabel("y")
    a2.semilogy(losses)
    a2.set_xlabel("gradient-descent step")
    a2.set_ylabel("training MSE")
    c.figure("linear_regression", fig, "Fitting y = 5x + 10 by gradient descent on the mean "
             "squared error: the line (left) and the empirical risk per step (right).")


def _orientation_histograms(images: np.ndarray, cells: int = 2, bins: int = 8) -> np.ndarray:
    """A HOG-like descriptor: per cell, a histogram of gradient orientations weighted by
    gradient magnitude. images `[N, H, W]` -> features `[N, cells*cells*bins]`."""
    gy, gx = np.gradient(images, axis=(1, 2))
    mag = np.hypot(gx, gy)
    ang = np.mod(np.arctan2(gy, gx), np.pi)           # unsigned orientation in [0, pi)
    b = np.minimum((ang / np.pi * bins).astype(int), bins - 1)
    n, h, w = images.shape
    feats = np.zeros((n, cells, cells, bins))
    for i in range(cells):
        for j in range(cells):
            sl = (slice(None), slice(i * h // cells, (i + 1) * h // cells),
                  slice(j * w // cells, (j + 1) * w // cells))
            for k in range(bins):
                feats[:, i, j, k] = (mag[sl] * (b[sl] == k)).sum((1, 2))
    feats = feats.reshape(n, -1)
    return feats / (np.linalg.norm(feats, axis=1, keepdims=True) + 1e-8)


def _features_vs_end_to_end(c):
    c.section("2. Hand-crafted features vs end-to-end learning (8x8 digits, 1437 train / 360 test)")
    d = load_digits()
    (x, y), (xt, yt) = d["train"], d["test"]
    rng = np.random.default_rng(0)
    results = []
    for name, tr, te, sizes in (
            ("linear on raw pixels", x.reshape(len(x), -1), xt.reshape(len(xt), -1), [64, 10]),
            ("linear on orientation histograms", _orientation_histograms(x),
             _orientation_histograms(xt), [32, 10]),
            ("MLP on raw pixels (end to end)", x.reshape(len(x), -1), xt.reshape(len(xt), -1),
             [64, 128, 10])):
        model = mlp(sizes, rng=0)
        _train(model, tr.astype(np.float32), y, cross_entropy, steps=c.steps(300, 1000), lr=1e-2,
               batch=128, rng=rng)
        acc = float((model.forward(te.astype(np.float32)).argmax(1) == yt).mean())
        results.append([name, tr.shape[1], acc])
    c.table(["model", "input features", "test accuracy"], results)
    c.number("hog_accuracy", results[1][2], "accuracy with hand-made orientation histograms", ".3f")
    c.number("mlp_accuracy", results[2][2], "accuracy of the end-to-end MLP", ".3f")


def _broadcasting_and_softmax(c):
    c.section("3. Shapes: a batched linear layer, broadcasting, and a stable softmax")
    rng = np.random.default_rng(0)
    layer = Linear(4, 3, rng=0)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    z = layer.forward(x)
    c.say(f"x {x.shape} @ W.T {layer.params['weight'].T.shape} + b {layer.params['bias'].shape}"
          f" -> z {z.shape}  (b is broadcast along the batch axis)")
    logits = np.array([1000.0, 1001.0, 1002.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(logits) / np.exp(logits).sum()
    stable = softmax(logits)
    c.say(f"naive softmax of {logits.tolist()}: {naive.tolist()}  (exp overflows)")
    c.say(f"softmax after subtracting the max:   {np.round(stable, 4).tolist()}")
    c.number("softmax_sum", stable.sum(), "sum of the stable softmax", ".6f")


def _activations(c):
    c.section("4. Activation functions and their derivatives (from each layer's backward)")
    z = np.linspace(-4, 4, 401)
    fig, (a1, a2) = new_figure(1, 2, size=(9, 3.4))
    for name, layer in (("sigmoid", Sigmoid()), ("tanh", Tanh()), ("ReLU", ReLU()),
                        ("leaky ReLU (0.1)", LeakyReLU(0.1)), ("GELU", GELU())):
        out = layer.forward(z)
        grad = layer.backward(np.ones_like(z))     # d out / d z, elementwise
        a1.plot(z, out, label=name)
        a2.plot(z, grad, label=name)
        if name == "sigmoid":
            c.number("sigmoid_max_slope", grad.max(), "largest slope of the sigmoid (at z = 0)", ".3f")
    a1.set_title("f(z)")
    a2.set_title("f'(z)")
    for ax in (a1, a2):
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_xlabel("z")
    a1.set_ylim(-1.5, 4)
    a1.legend(fontsize=8)
    c.figure("activations", fig, "Activation functions (left) and their derivatives (right), "
             "computed by the NumPy layers' forward and backward passes. The sigmoid's slope "
             "never exceeds 0.25; ReLU's is exactly 0 or 1.")


def _nonlinearity(c):
    c.section("5. Why nonlinearity: stacked linear layers collapse; spirals need a hidden layer")
    rng = np.random.default_rng(1)
    layers = [Linear(2, 16, rng=1, dtype=np.float64), Linear(16, 16, rng=2, dtype=np.float64),
              Linear(16, 3, rng=3, dtype=np.float64)]
    x = rng.normal(size=(10, 2))
    deep = x
    for layer in layers:
        deep = layer.forward(deep)
    w = layers[2].params["weight"] @ layers[1].params["weight"] @ layers[0].params["weight"]
    b = layers[2].params["weight"] @ (layers[1].params["weight"] @ layers[0].params["bias"]
                                      + layers[1].params["bias"]) + layers[2].params["bias"]
    c.number("collapse_error", np.abs(deep - (x @ w.T + b)).max(),
             "max |3 linear layers - one linear layer W3 W2 W1| (float64)", ".2e")
    xs, ys = spiral(100, 3, seed=0)
    fig, axes = new_figure(1, 3, size=(10, 3.4))
    for ax, (name, sizes, act) in zip(axes, (("linear (softmax regression)", [2, 3], "relu"),
                                             ("3 linear layers, no activation", [2, 64, 64, 3], None),
                                             ("MLP 2-64-64-3 with ReLU", [2, 64, 64, 3], "relu"))):
        model = mlp(sizes, rng=0)
        if act is None:   # drop the activations: what is left is a product of matrices
            from dlcc.scratch import Sequential

            model = Sequential(*[m for m in model.children if isinstance(m, Linear)])
        _train(model, xs, ys, cross_entropy, steps=c.steps(800, 2000), lr=1e-2)
        acc = float((model.forward(xs).argmax(1) == ys).mean())
        decision_map(ax, lambda p, m=model: m.forward(p).argmax(1), xs, ys, f"{name}\ntrain acc {acc:.2f}")
        c.say(f"{name:<32} training accuracy {acc:.3f}")
        if act == "relu" and len(sizes) > 2:
            c.number("spiral_mlp_accuracy", acc, "MLP training accuracy on spirals", ".3f")
    c.figure("decision_boundaries", fig, "Three interleaved spirals. A linear classifier and a "
             "stack of linear layers draw the same kind of straight boundaries; with ReLUs in "
             "between, the MLP bends them around the arms.")


def _universal_approximation(c):
    c.section("6. Universal approximation: one hidden ReLU layer, growing width")
    x = np.linspace(-1, 1, 200).reshape(-1, 1).astype(np.float32)
    target = (np.sin(3 * np.pi * x) * np.exp(-x ** 2) + 0.3 * x).astype(np.float32)
    fig, (a1, a2) = new_figure(1, 2, size=(9, 3.4))
    a1.plot(x, target, "k", lw=2, label="target")
    widths, errs = [2, 8, 32, 128], []
    for width in widths:
        model = mlp([1, width, 1], rng=0)
        _train(model, x, target, mse_loss, steps=c.steps(1500, 4000), lr=1e-2)
        pred = model.forward(x)
        errs.append(float(np.mean((pred - target) ** 2)))
        a1.plot(x, pred, label=f"width {width}")
    a1.legend(fontsize=8)
    a2.loglog(widths, errs, "o-")
    a2.set_xlabel("hidden units")
    a2.set_ylabel("mean squared error")
    c.table(["hidden units", "MSE"], [[w, e] for w, e in zip(widths, errs)])
    c.number("ua_mse_widest", errs[-1], f"MSE with {widths[-1]} hidden units", ".2e")
    c.figure("universal_approximation", fig, "One hidden layer of ReLUs is a piecewise-linear "
             "function with one kink per unit: wider layers follow the curve more closely.")


def _parameter_counts(c):
    c.section("7. Parameter counting: W[l] is [out, in], b[l] is [out]")
    rows = []
    # The worked example uses made-up sizes on purpose: A1's written questions ask for the
    # counts of a similar network, and the lecture must not hand their answers out.
    for name, sizes in (("binary: 24x24x1 -> 6 -> 12 -> 12 -> 1", [576, 6, 12, 12, 1]),
                        ("3-class: 24x24x1 -> 6 -> 12 -> 12 -> 3", [576, 6, 12, 12, 3]),
                        ("A1 MNIST: 784 -> 200 -> 100 -> 10", [784, 200, 100, 10])):
        model = mlp(sizes)
        by_hand = sum(o * i + o for i, o in zip(sizes[:-1], sizes[1:]))
        rows.append([name, by_hand, model.num_parameters()])
        assert by_hand == model.num_parameters()
    c.table(["network", "sum of out*in + out", "counted by dlcc"], rows)
    c.number("mnist_mlp_params", rows[2][1], "parameters of the A1 MNIST MLP", ".0f")


def run(c) -> None:
    _linear_regression(c)
    _features_vs_end_to_end(c)
    _broadcasting_and_softmax(c)
    _activations(c)
    _nonlinearity(c)
    _universal_approximation(c)
    _parameter_counts(c)
