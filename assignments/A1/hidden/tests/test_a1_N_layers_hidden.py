"""Hidden tests for a1_mlp_N_layers.py: values against the solution for 1-3 hidden layers,
and one exact epoch of SGD (never released)."""

from argparse import Namespace

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_keys, assert_shape

MOD = "a1_mlp_N_layers"
DEPTHS = {1: (20, 12, 10), 2: (20, 12, 8, 10), 3: (20, 12, 9, 7, 10)}


def problem(seed, sizes, batch=16, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, sizes[0]))
    labels = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    params = {"num_hidden_layers": list(sizes[1:-1])}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = rng.normal(scale=scale, size=(sizes[layer - 1], sizes[layer]))
        params[f"b{layer}"] = rng.normal(scale=0.2, size=(1, sizes[layer]))
    return x, labels, params


def keys(depth):
    return [k for layer in range(1, depth + 2) for k in (f"W{layer}", f"b{layer}")]


@pytest.mark.task("A1.5")
def test_initialize_params_statistics(student):
    params = student.module(MOD).initialize_params(784, [300, 200, 100], 10)
    sizes = [784, 300, 200, 100, 10]
    for layer in range(1, 5):
        assert_shape(params[f"W{layer}"], (sizes[layer - 1], sizes[layer]), name=f"W{layer}")
        assert_close(params[f"b{layer}"], np.zeros((1, sizes[layer])), name=f"b{layer}")
    for key, (lo, hi) in {"W1": (0.97, 1.03), "W2": (0.97, 1.03), "W3": (0.95, 1.05),
                          "W4": (0.85, 1.15)}.items():
        w = np.asarray(params[key])
        assert lo < w.std() < hi and abs(w.mean()) < 0.2, \
            f"{key} should be standard normal: mean {w.mean():.3f}, std {w.std():.3f}"
    assert params["num_hidden_layers"] == [300, 200, 100]
    expected = {"num_hidden_layers", *[f"{p}{layer}" for layer in range(1, 5) for p in "Wb"]}
    assert set(params) == expected, \
        f"params should hold exactly {sorted(expected)}; extra: {sorted(set(params) - expected)}"


@pytest.mark.task("A1.5")
def test_initialize_params_one_hidden_layer(student):
    params = student.module(MOD).initialize_params(6, [5], 2)
    assert_shape(params["W1"], (6, 5), name="W1")
    assert_shape(params["W2"], (5, 2), name="W2")
    assert "W3" not in params, "one hidden layer means two weight layers"


@pytest.mark.task("A1.6")
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_forward_matches_solution(student, solution, depth):
    x, labels, params = problem(40 + depth, DEPTHS[depth])
    loss, y_hat, out = student.module(MOD).forward_pass(x, labels, params)
    ref_loss, ref_y_hat, ref = solution.module(MOD).forward_pass(x, labels, dict(params))
    assert_close(loss, ref_loss, rtol=1e-7, name="loss")
    assert_close(y_hat, ref_y_hat, rtol=1e-7, atol=1e-12, name="y_hat")
    for layer in range(1, depth + 1):
        assert_close(out[f"a{layer}"], ref[f"a{layer}"], rtol=1e-7, atol=1e-12, name=f"a{layer}")
    assert f"a{depth + 1}" not in out, \
        f"the output layer has no sigmoid cache: a{depth + 1} should not be in params (y_hat is its output)"


@pytest.mark.task("A1.7")
@pytest.mark.parametrize("depth,reg", [(1, 0.0), (2, 0.03), (3, 0.03), (3, 1.0)])
def test_backward_matches_solution(student, solution, depth, reg):
    x, labels, params = problem(50 + depth, DEPTHS[depth])
    mlp = student.module(MOD)
    _, _, cached = mlp.forward_pass(x, labels, params)
    grad = mlp.backward_pass(x, labels, cached, reg)
    ref_mod = solution.module(MOD)
    _, _, ref_cached = ref_mod.forward_pass(x, labels, dict(params))
    ref = ref_mod.backward_pass(x, labels, ref_cached, reg)
    assert_keys(grad, keys(depth), name="grad")
    for key in keys(depth):
        assert_close(grad[key], ref[key], rtol=1e-6, atol=1e-10, name=f"grad[{key!r}] (reg={reg})")


@pytest.mark.task("A1.8", weight=2)
def test_one_epoch_matches_solution(student, solution):
    rng = np.random.default_rng(60)
    x = rng.normal(size=(70, 20))
    y = np.eye(10)[rng.integers(0, 10, size=70)]
    data = {"train": (x, y), "val": (x[:10], y[:10])}
    _, _, params = problem(61, DEPTHS[3], scale=0.5)
    args = Namespace(num_epochs=1, num_hidden_layers=[12, 9, 7], batch_size=20, reg=0.01,
                     learning_rate=0.7, one_batch_training=False)
    trained, _ = student.module(MOD).run_training(args, data, params)
    ref, _ = solution.module(MOD).run_training(args, data, dict(params))
    for key in keys(3):
        assert_close(trained[key], ref[key], rtol=1e-8, atol=1e-12, name=f"{key} after one epoch")
