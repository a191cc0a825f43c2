"""A1, part 2: the same MLP with any number of hidden layers.

Run `python a1_mlp_N_layers.py --num_hidden_layers 300 200 100` (options: --help), then try
other depths and widths for a higher validation accuracy. Check your work with
`dlcc course test A1`.

Layer l = 1..L (L = number of hidden layers + 1) computes z_l = a_{l-1} W_l + b_l with
a_0 = X; hidden layers apply the sigmoid (a_l = sigmoid(z_l)), the last one the softmax
(y_hat = softmax(z_L)). Keys come from util.get_weight_bias_key(l) -> ("W<l>", "b<l>") and
util.get_score_activation_key(l) -> ("z<l>", "a<l>").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import util


def num_layers(params) -> int:
    """L: the number of weight layers (hidden layers + the output layer)."""
    return len(params["num_hidden_layers"]) + 1


def weights_only(params) -> dict:
    """The weights, biases and layer sizes of params, without the forward caches."""
    keys = [k for layer in range(1, num_layers(params) + 1) for k in util.get_weight_bias_key(layer)]
    return {"num_hidden_layers": list(params["num_hidden_layers"]), **{k: params[k] for k in keys}}


def initialize_params(num_input_layer, num_hidden_layers, num_output):
    """Standard normal weights (np.random.randn, no scaling) and zero biases for every layer.

    Args:
        num_hidden_layers: hidden layer sizes, e.g. [300, 200, 100].
    Returns:
        params with "num_hidden_layers" (a list) and W1 [D, H1], b1 [1, H1], ...,
        W<L> [H_last, C], b<L> [1, C].
    """
    params = {"num_hidden_layers": list(num_hidden_layers)}
    # TODO (A1.5): your code here
    # HINT: list all layer sizes [D, H1, ..., C] and loop over consecutive pairs
    raise NotImplementedError("A1.5: this part of initialize_params() is not implemented yet")
    return params


def forward_pass(data, labels, params):
    """Forward pass and mean cross-entropy loss (with 1e-8 inside the log).

    Returns:
        (loss: float, y_hat: [B, C], params) with caches z1..z<L>, a1..a<L-1> and "y_hat".
    """
    # TODO (A1.6): your code here
    raise NotImplementedError("A1.6: this part of forward_pass() is not implemented yet")
    return float(loss), y_hat, params


def backward_pass(data, labels, params, reg):
    """Gradients of the mean loss (+ reg * sum of |W_l|^2) for every W_l and b_l.

    Returns:
        grad with the keys W1, b1, ..., W<L>, b<L>.
    """
    grad = {}
    # TODO (A1.7): your code here
    # HINT: walk the layers backwards; the input of layer 1 is the data itself
    raise NotImplementedError("A1.7: this part of backward_pass() is not implemented yet")
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
    """Mini-batch gradient descent, as in a1_mlp_3_layers.run_training.

    args: num_epochs, num_hidden_layers (list), batch_size, reg, learning_rate,
    one_batch_training. Returns (weights_only(params), history).
    """
    x_train, y_train = data["train"]
    x_val, y_val = data["val"]
    if args.one_batch_training:
        x_train, y_train = x_train[:args.batch_size], y_train[:args.batch_size]
    if params is None:
        params = initialize_params(x_train.shape[1], args.num_hidden_layers, y_train.shape[1])
    num_iters = x_train.shape[0] // args.batch_size
    history = {"loss_train": [], "loss_val": [], "accu_train": [], "accu_val": []}
    for epoch in range(args.num_epochs):
        t0 = time.time()
        for it in range(num_iters):
            # TODO (A1.8): your code here
            # HINT: as in the 3-layer file, but loop over the layers for the update
            raise NotImplementedError("A1.8: this part of run_training() is not implemented yet")
        weights = weights_only(params)
        for split, (x, y) in (("train", (x_train, y_train)), ("val", (x_val, y_val))):
            loss, accuracy = evaluate(x, y, weights)
            history[f"loss_{split}"].append(loss)
            history[f"accu_{split}"].append(accuracy)
        print(f"epoch {epoch + 1}/{args.num_epochs}: loss train {history['loss_train'][-1]:.4f} "
              f"val {history['loss_val'][-1]:.4f}, accuracy train {history['accu_train'][-1]:.4f} "
              f"val {history['accu_val'][-1]:.4f} ({time.time() - t0:.1f} s)")
    return weights_only(params), history


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="A1: a NumPy MLP with N hidden layers on MNIST")
    p.add_argument("--num_epochs", type=int, default=30)
    p.add_argument("--num_hidden_layers", type=int, nargs="+", default=[300, 200, 100])
    p.add_argument("--batch_size", type=int, default=1000)
    p.add_argument("--reg", type=float, default=0.0, help="L2 weight on |W|^2")
    p.add_argument("--learning_rate", type=float, default=1.0)
    p.add_argument("--training_record", default="base_line_N_layer_MLP", help="name of the curves PNG")
    p.add_argument("--one_batch_training", action="store_true",
                   help="debug: train on the first batch only")
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
