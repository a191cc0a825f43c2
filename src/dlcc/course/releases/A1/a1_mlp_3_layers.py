"""A1, part 1: a multi-layer perceptron with two hidden layers, in NumPy only.

Run `python a1_mlp_3_layers.py` (options: --help). It trains on MNIST, prints the loss and
accuracy of every epoch, saves the curves to results/<training_record>.png and prints the
test accuracy. Check your work with `dlcc course test A1`.

The network, with row vectors (B images per batch, D = 784 pixels, C = 10 classes):

    z1 = X  W1 + b1,   a1 = sigmoid(z1)         W1 [D, H1],  b1 [1, H1]
    z2 = a1 W2 + b2,   a2 = sigmoid(z2)         W2 [H1, H2], b2 [1, H2]
    z3 = a2 W3 + b3,   y_hat = softmax(z3)      W3 [H2, C],  b3 [1, C]
    loss = -sum(labels * log(y_hat + 1e-8)) / B           (mean cross-entropy)

With L2 regularization the objective becomes loss + reg * (|W1|^2 + |W2|^2 + |W3|^2).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import util

PARAM_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def initialize_params(num_input_layer, num_hidden1, num_hidden2, num_output):
    """Weights drawn from the standard normal distribution (np.random.randn, no scaling),
    biases zero.

    Returns:
        params: {"W1": [D, H1], "b1": [1, H1], "W2": [H1, H2], "b2": [1, H2],
                 "W3": [H2, C], "b3": [1, C]}, all float64.
    """
    params = {}
    # TODO (A1.1): your code here
    # HINT: np.random.randn(rows, cols) for a weight matrix, np.zeros((1, n)) for a bias
    raise NotImplementedError("A1.1: this part of initialize_params() is not implemented yet")
    return params


def forward_pass(data, labels, params):
    """The forward pass and the mean cross-entropy loss.

    Args:
        data: [B, D] inputs; labels: [B, C] one-hot; params: as made by initialize_params.
    Returns:
        (loss: float, y_hat: [B, C] class probabilities, params). params also receives the
        caches backward_pass needs: "z1", "a1", "z2", "a2", "z3" and "y_hat".
    """
    # TODO (A1.2): your code here
    # HINT: util.sigmoid and util.softmax are given; add 1e-8 inside the log
    raise NotImplementedError("A1.2: this part of forward_pass() is not implemented yet")
    return float(loss), y_hat, params


def backward_pass(data, labels, params, reg):
    """Gradients of the objective with respect to every weight and bias.

    Uses the caches stored by the last forward_pass on the same data. Gradients are of the
    mean loss (divide by B). With reg > 0, the L2 term reg * |W|^2 adds 2 * reg * W to each
    weight gradient (biases are not regularized).

    Returns:
        grad: {"W1": ..., "b1": ..., "W2": ..., "b2": ..., "W3": ..., "b3": ...}, each of
        its parameter's shape.
    """
    grad = {}
    # TODO (A1.3): your code here
    # HINT: start from dz3 = (y_hat - labels) / B; sigmoid'(z) = a * (1 - a)
    raise NotImplementedError("A1.3: this part of backward_pass() is not implemented yet")
    return grad


def evaluate(x, y, weights, chunk=10000):
    """Mean loss and accuracy over a whole split, in chunks (big temporaries are slow)."""
    total_loss, correct = 0.0, 0.0
    for start in range(0, x.shape[0], chunk):
        xs, ys = x[start:start + chunk], y[start:start + chunk]
        loss, y_hat, _ = forward_pass(xs, ys, dict(weights))
        total_loss += loss * xs.shape[0]
        correct += util.compute_accuracy(y_hat, ys) * xs.shape[0]
    return total_loss / x.shape[0], correct / x.shape[0]


def run_training(args, data, params=None):
    """Mini-batch gradient descent.

    Args:
        args: namespace with num_epochs, num_hidden1, num_hidden2, batch_size, reg,
            learning_rate and one_batch_training (train on the first batch only).
        data: {"train": (x, y), "val": (x, y), ...} as made by util.load_data.
        params: starting weights; default: initialize_params(...).
    Returns:
        (params: the trained W1, b1, ..., b3; history: per-epoch lists "loss_train",
        "loss_val", "accu_train", "accu_val").
    """
    x_train, y_train = data["train"]
    x_val, y_val = data["val"]
    if args.one_batch_training:
        x_train, y_train = x_train[:args.batch_size], y_train[:args.batch_size]
    if params is None:
        params = initialize_params(x_train.shape[1], args.num_hidden1, args.num_hidden2,
                                   y_train.shape[1])
    num_iters = x_train.shape[0] // args.batch_size
    history = {"loss_train": [], "loss_val": [], "accu_train": [], "accu_val": []}
    for epoch in range(args.num_epochs):
        t0 = time.time()
        for it in range(num_iters):
            # TODO (A1.4): your code here
            # HINT: batch `it` is rows it*batch_size up to (it+1)*batch_size, in order (no
            raise NotImplementedError("A1.4: this part of run_training() is not implemented yet")
        weights = {k: params[k] for k in PARAM_KEYS}
        for split, (x, y) in (("train", (x_train, y_train)), ("val", (x_val, y_val))):
            loss, accuracy = evaluate(x, y, weights)
            history[f"loss_{split}"].append(loss)
            history[f"accu_{split}"].append(accuracy)
        print(f"epoch {epoch + 1}/{args.num_epochs}: loss train {history['loss_train'][-1]:.4f} "
              f"val {history['loss_val'][-1]:.4f}, "
              f"accuracy train {history['accu_train'][-1]:.4f} val {history['accu_val'][-1]:.4f} "
              f"({time.time() - t0:.1f} s)")
    return {k: params[k] for k in PARAM_KEYS}, history


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="A1: a NumPy MLP with two hidden layers on MNIST")
    p.add_argument("--num_epochs", type=int, default=30)
    p.add_argument("--num_hidden1", type=int, default=200)
    p.add_argument("--num_hidden2", type=int, default=100)
    p.add_argument("--batch_size", type=int, default=1000)
    p.add_argument("--reg", type=float, default=0.0, help="L2 weight on |W|^2")
    p.add_argument("--learning_rate", type=float, default=5.0)
    p.add_argument("--training_record", default="base_line", help="name of the curves PNG")
    # The course used type=bool here, so `--one_batch_training False` meant True; a flag is safer.
    p.add_argument("--one_batch_training", action="store_true",
                   help="debug: train on the first batch only (try --batch_size 10 --num_epochs 1000)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--results_dir", default=str(Path(__file__).resolve().parent / "results"))
    return p.parse_args(argv)


def main(argv=None) -> float:
    args = parse_args(argv)
    util.set_seed(args.seed)
    data = util.load_data()
    t0 = time.time()
    params, history = run_training(args, data)
    _, accuracy = evaluate(*data["test"], params)
    png = util.plot_curves(history, Path(args.results_dir) / f"{args.training_record}.png")
    print(f"test accuracy {accuracy:.4f}; training took {time.time() - t0:.1f} s; curves: {png}")
    return accuracy


if __name__ == "__main__":
    main()
