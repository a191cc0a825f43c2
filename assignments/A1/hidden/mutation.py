"""Probes for `dlcc course mutate A1` (never released): each draws random float64 inputs (with
the hidden tests' problem makers, at random sizes) and returns what one solution function
computes, so that a surviving mutant can be compared with the solution on 100 inputs (see
dlcc.course.authoring.equivalence)."""

from argparse import Namespace

import numpy as np
from test_a1_3_layers_hidden import problem as problem3
from test_a1_N_layers_hidden import problem as problem_n


def _sizes(rng, hidden):
    return tuple(int(v) for v in rng.integers(2, 7, size=hidden + 2))


def _seed(rng):
    return int(rng.integers(2**31))


def _arrays(d):
    return {k: v for k, v in d.items() if isinstance(v, np.ndarray)}


def init3(m, rng):
    return m.initialize_params(*_sizes(rng, 2))


def forward3(m, rng):
    x, y, p = problem3(_seed(rng), _sizes(rng, 2), batch=7)
    loss, y_hat, cache = m.forward_pass(x, y, p)
    return loss, y_hat, _arrays(cache)


def backward3(m, rng):
    x, y, p = problem3(_seed(rng), _sizes(rng, 2), batch=7)
    _, _, cache = m.forward_pass(x, y, p)
    return m.backward_pass(x, y, cache, float(rng.uniform(0, 0.5)))


def _random_depth(rng):
    return problem_n(_seed(rng), _sizes(rng, int(rng.integers(1, 4))), batch=7)


def initn(m, rng):
    sizes = _sizes(rng, int(rng.integers(1, 4)))
    return _arrays(m.initialize_params(sizes[0], list(sizes[1:-1]), sizes[-1]))


def forwardn(m, rng):
    x, y, p = _random_depth(rng)
    loss, y_hat, cache = m.forward_pass(x, y, p)
    return loss, y_hat, _arrays(cache)


def backwardn(m, rng):
    x, y, p = _random_depth(rng)
    _, _, cache = m.forward_pass(x, y, p)
    return m.backward_pass(x, y, cache, float(rng.uniform(0, 0.5)))


def training(three_layers):
    def probe(m, rng):
        if three_layers:
            sizes = _sizes(rng, 2)
            x, y, p = problem3(_seed(rng), sizes, batch=12, scale=0.5)
            layers = {"num_hidden1": sizes[1], "num_hidden2": sizes[2]}
        else:
            x, y, p = problem_n(_seed(rng), _sizes(rng, int(rng.integers(1, 4))), batch=12, scale=0.5)
            layers = {"num_hidden_layers": list(p["num_hidden_layers"])}
        args = Namespace(num_epochs=2, batch_size=5, reg=float(rng.uniform(0, 0.1)),
                         learning_rate=float(rng.uniform(0.1, 1.0)), one_batch_training=False, **layers)
        trained, history = m.run_training(args, {"train": (x, y), "val": (x[:4], y[:4])}, p)
        return _arrays(trained), history
    return probe


PROBES = {
    "a1_mlp_3_layers.initialize_params": init3,
    "a1_mlp_3_layers.forward_pass": forward3,
    "a1_mlp_3_layers.backward_pass": backward3,
    "a1_mlp_3_layers.run_training": training(True),
    "a1_mlp_N_layers.initialize_params": initn,
    "a1_mlp_N_layers.forward_pass": forwardn,
    "a1_mlp_N_layers.backward_pass": backwardn,
    "a1_mlp_N_layers.run_training": training(False),
}
