"""Math session companion: the gradients of binary and multi-class MLPs, one line at a time.

Every formula derived on the page is evaluated with NumPy (row-vector convention of A1,
Z = X W + b, W of shape [in, out]) and compared with torch autograd on the same numbers:

1. Binary: two sigmoid hidden layers, a sigmoid output, binary cross-entropy.
2. Multi-class: the same hidden layers, softmax output, cross-entropy; plus the L2 term.
3. The softmax Jacobian for K = 5 and why it collapses to q - y.
4. Linear regression by gradient descent, as a path on the loss surface.
5. Why sigmoid networks learn slowly in their first layers: a'(z) <= 1/4 per layer.
"""

from __future__ import annotations

import numpy as np
import torch

from dlcc.lectures.plotting import new_figure
from dlcc.scratch.functional import sigmoid, softmax


def _params(rng, sizes):
    return {f"W{i + 1}": rng.normal(0, 0.5, (a, b)) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))} | \
           {f"b{i + 1}": rng.normal(0, 0.1, (1, b)) for i, b in enumerate(sizes[1:])}


def _hand(p, x, y, output: str, reg: float = 0.0) -> dict:
    """Forward and backward written as derived on the page; returns every gradient."""
    batch = len(x)
    z1 = x @ p["W1"] + p["b1"]
    a1 = sigmoid(z1)
    z2 = a1 @ p["W2"] + p["b2"]
    a2 = sigmoid(z2)
    z3 = a2 @ p["W3"] + p["b3"]
    y_hat = sigmoid(z3) if output == "binary" else softmax(z3, axis=1)
    g = {"dz3": (y_hat - y) / batch}              # same line for both heads (see the page)
    g["dW3"] = a2.T @ g["dz3"] + 2 * reg * p["W3"]
    g["db3"] = g["dz3"].sum(0, keepdims=True)
    g["da2"] = g["dz3"] @ p["W3"].T
    g["dz2"] = g["da2"] * a2 * (1 - a2)
    g["dW2"] = a1.T @ g["dz2"] + 2 * reg * p["W2"]
    g["db2"] = g["dz2"].sum(0, keepdims=True)
    g["da1"] = g["dz2"] @ p["W2"].T
    g["dz1"] = g["da1"] * a1 * (1 - a1)
    g["dW1"] = x.T @ g["dz1"] + 2 * reg * p["W1"]
    g["db1"] = g["dz1"].sum(0, keepdims=True)
    return g


def _autograd(p, x, y, output: str, reg: float = 0.0) -> dict:
    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    xt, yt = torch.tensor(x), torch.tensor(y)
    z1 = xt @ t["W1"] + t["b1"]
    a1 = torch.sigmoid(z1)
    z2 = a1 @ t["W2"] + t["b2"]
    a2 = torch.sigmoid(z2)
    z3 = a2 @ t["W3"] + t["b3"]
    for v in (z1, a1, z2, a2, z3):
        v.retain_grad()
    if output == "binary":
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z3, yt, reduction="sum") / len(x)
    else:
        loss = -(yt * torch.log_softmax(z3, 1)).sum() / len(x)
    loss = loss + reg * sum((t[k] ** 2).sum() for k in ("W1", "W2", "W3"))
    loss.backward()
    out = {f"d{k}": v.grad.numpy() for k, v in t.items()}
    out |= {"dz1": z1.grad.numpy(), "da1": a1.grad.numpy(), "dz2": z2.grad.numpy(),
            "da2": a2.grad.numpy(), "dz3": z3.grad.numpy()}
    return out


FORMULAS = {
    "dz3": "(y_hat - y) / B", "dW3": "a2^T dz3", "db3": "sum_rows dz3", "da2": "dz3 W3^T",
    "dz2": "da2 * a2 (1 - a2)", "dW2": "a1^T dz2", "db2": "sum_rows dz2", "da1": "dz2 W2^T",
    "dz1": "da1 * a1 (1 - a1)", "dW1": "x^T dz1", "db1": "sum_rows dz1",
}


def _compare(c, title, output, reg=0.0):
    c.section(title)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 6))
    if output == "binary":
        y = rng.integers(0, 2, (10, 1)).astype(float)
        p = _params(rng, [6, 5, 4, 1])
    else:
        y = np.eye(3)[rng.integers(0, 3, 10)]
        p = _params(rng, [6, 5, 4, 3])
    hand, auto = _hand(p, x, y, output, reg), _autograd(p, x, y, output, reg)
    rows, worst = [], 0.0
    for key, formula in FORMULAS.items():
        if reg and key.startswith("dW"):
            formula += f" + 2 lambda {key[1:]}"
        err = np.abs(hand[key] - auto[key]).max() / (np.abs(auto[key]).max() + 1e-30)
        worst = max(worst, err)
        rows.append([key, str(hand[key].shape), formula, err])
    c.table(["gradient", "shape", "formula", "relative difference to autograd"], rows, ".1e")
    return worst


def _softmax_jacobian(c):
    c.section("3. The softmax Jacobian, K = 5")
    z = np.array([2.0, 1.0, 0.1, -1.0, 0.5])
    q = softmax(z)
    jac = np.diag(q) - np.outer(q, q)
    eps = 1e-6
    numeric = np.stack([(softmax(z + eps * e) - softmax(z - eps * e)) / (2 * eps) for e in np.eye(5)], 1)
    c.number("jacobian_error", np.abs(jac - numeric).max(), "max |diag(q) - q q^T - numeric Jacobian|", ".1e")
    c.number("jacobian_row_sum", np.abs(jac.sum(1)).max(), "largest |row sum| (softmax outputs sum to 1)", ".1e")
    y = np.eye(5)[1]
    chain = jac.T @ (-y / q)                    # dL/dz = J^T dL/dq for L = -sum y log q
    c.number("chain_vs_q_minus_y", np.abs(chain - (q - y)).max(), "max |J^T (-y/q) - (q - y)|", ".1e")
    fig, (a1, a2) = new_figure(1, 2, size=(9, 3.6))
    im = a1.imshow(jac, cmap="RdBu_r", vmin=-0.25, vmax=0.25)
    for i in range(5):
        for j in range(5):
            a1.text(j, i, f"{jac[i, j]:.3f}", ha="center", va="center", fontsize=7)
    a1.set_title("∂q_i/∂z_j = q_i(δ_ij − q_j)", fontsize=9)
    a1.set_xlabel("j")
    a1.set_ylabel("i")
    fig.colorbar(im, ax=a1, shrink=0.8)
    k = np.arange(5)
    a2.bar(k - 0.2, q, 0.4, label="q = softmax(z)")
    a2.bar(k + 0.2, q - y, 0.4, label="∂L/∂z = q − y (true class 1)")
    a2.axhline(0, color="0.5", lw=0.8)
    a2.legend(fontsize=8)
    a2.set_xlabel("class")
    c.figure("softmax_jacobian", fig, "Left: the softmax Jacobian for z = (2, 1, 0.1, −1, 0.5); "
             "positive on the diagonal, negative elsewhere, rows summing to zero. Right: multiplied "
             "by the cross-entropy's gradient it leaves just q − y.")


def _regression_path(c):
    c.section("4. Linear regression y = 5x + 10 by gradient descent: the path of (w, b)")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 50)
    y = 5 * x + 10 + rng.normal(0, 1.0, 50)
    w, b, lr = rng.normal() * np.sqrt(2.0), 0.0, 0.1     # He-style start, as the course demo
    path = [(w, b)]
    for _ in range(40):
        err = w * x + b - y
        w, b = w - lr * 2 * np.mean(err * x), b - lr * 2 * np.mean(err)   # dMSE/dw, dMSE/db
        path.append((w, b))
    path = np.array(path)
    c.number("regression_w", path[-1, 0], "w after 40 steps", ".4g")
    c.number("regression_b", path[-1, 1], "b after 40 steps", ".4g")
    ws, bs = np.meshgrid(np.linspace(-2, 8, 120), np.linspace(-1, 13, 120))
    mse = ((ws[..., None] * x + bs[..., None] - y) ** 2).mean(-1)
    hess = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    eig = np.linalg.eigvalsh(hess)
    c.number("regression_condition", eig[-1] / eig[0], "condition number of the MSE's Hessian in (w, b)", ".3g")
    fig, ax = new_figure(size=(6.2, 4))
    ax.contour(ws, bs, mse, levels=np.geomspace(mse.min() + 0.05, mse.max(), 18), cmap="viridis", linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], "r.-", ms=4, label="gradient descent, lr 0.1")
    ax.plot(5, 10, "k*", ms=12, label="true (5, 10)")
    ax.set_xlabel("w")
    ax.set_ylabel("b")
    ax.legend(fontsize=8)
    c.figure("regression_path", fig, "Contours of the mean squared error over (w, b) and the 40 "
             "gradient-descent steps of the linear-regression demo. b converges first: the loss "
             "is more curved along b than along w (x lies in [−1, 1]).")


def _sigmoid_depth(c):
    c.section("5. Gradient size per layer at initialisation: sigmoid vs ReLU, 8 layers of 64")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 64))
    y = np.eye(10)[rng.integers(0, 10, 256)]
    norms = {}
    for act in ("sigmoid", "relu"):
        torch.manual_seed(0)
        layers = []
        for _ in range(8):
            layers += [torch.nn.Linear(64, 64).double(), torch.nn.Sigmoid() if act == "sigmoid" else torch.nn.ReLU()]
        net = torch.nn.Sequential(*layers, torch.nn.Linear(64, 10).double())
        for m in net:
            if isinstance(m, torch.nn.Linear):   # Xavier for sigmoid, He for ReLU: a fair start for both
                if act == "sigmoid":
                    torch.nn.init.xavier_normal_(m.weight)
                else:
                    torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                torch.nn.init.zeros_(m.bias)
        loss = -(torch.tensor(y) * torch.log_softmax(net(torch.tensor(x)), 1)).sum(1).mean()
        loss.backward()
        norms[act] = [m.weight.grad.norm().item() for m in net if isinstance(m, torch.nn.Linear)]
    c.table(["layer", "|dW| sigmoid", "|dW| ReLU"],
            [[i + 1, s, r] for i, (s, r) in enumerate(zip(norms["sigmoid"], norms["relu"]))], ".3g")
    c.number("sigmoid_first_over_last", norms["sigmoid"][0] / norms["sigmoid"][-2],
             "sigmoid net: |dW| of layer 1 / layer 8", ".2e")
    fig, ax = new_figure(size=(6.2, 3.6))
    for act, vals in norms.items():
        ax.semilogy(range(1, 10), vals, "o-", label=act)
    ax.set_xlabel("layer (1 = next to the input, 9 = output)")
    ax.set_ylabel("‖∂L/∂W‖")
    ax.legend(fontsize=8)
    c.figure("gradient_per_layer", fig, "Gradient norm of each weight matrix at initialisation. Every "
             "sigmoid layer multiplies the backward signal by a'(z) ≤ 1/4, so the first layers of "
             "a deep sigmoid network receive far smaller gradients than the last.")


def run(c) -> None:
    worst_b = _compare(c, "1. Binary MLP 6-5-4-1: sigmoid hidden layers, sigmoid output, BCE", "binary")
    c.number("binary_max_rel_diff", worst_b, "largest relative difference, binary MLP", ".1e")
    worst_m = _compare(c, "2. Multi-class MLP 6-5-4-3: softmax output, CE, L2 term lambda = 0.01",
                       "multiclass", reg=0.01)
    c.number("multiclass_max_rel_diff", worst_m, "largest relative difference, multi-class MLP", ".1e")
    _softmax_jacobian(c)
    _regression_path(c)
    _sigmoid_depth(c)
