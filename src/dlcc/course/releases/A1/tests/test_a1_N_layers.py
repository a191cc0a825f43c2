"""Public tests for a1_mlp_N_layers.py (any number of hidden layers)."""

from argparse import Namespace

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_keys, assert_shape, numerical_gradient

MOD = "a1_mlp_N_layers"


def tiny_problem(seed=0, sizes=(7, 5, 4, 3), batch=6, scale=0.5):
    """A small batch, one-hot labels and fixed parameters for hidden sizes sizes[1:-1]."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, sizes[0]))
    labels = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    params = {"num_hidden_layers": list(sizes[1:-1])}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = rng.normal(scale=scale, size=(sizes[layer - 1], sizes[layer]))
        params[f"b{layer}"] = rng.normal(scale=0.1, size=(1, sizes[layer]))
    return x, labels, params


def keys(depth):
    return [k for layer in range(1, depth + 1) for k in (f"W{layer}", f"b{layer}")]


@pytest.mark.task("A1.5")
def test_initialize_params_shapes(student):
    params = student.module(MOD).initialize_params(9, [6, 5, 4], 3)
    assert params.get("num_hidden_layers") == [6, 5, 4], "params['num_hidden_layers'] should be [6, 5, 4]"
    sizes = [9, 6, 5, 4, 3]
    for layer in range(1, 5):
        assert_shape(params[f"W{layer}"], (sizes[layer - 1], sizes[layer]), name=f"W{layer}")
        assert_close(params[f"b{layer}"], np.zeros((1, sizes[layer])), name=f"b{layer}")
    assert "W5" not in params, "four weight layers expected for three hidden layers"


@pytest.mark.task("A1.6")
def test_forward_known_values_one_hidden_layer(student):
    x, labels, params = tiny_problem(seed=1, sizes=(6, 4, 3))
    loss, y_hat, out = student.module(MOD).forward_pass(x, labels, params)
    assert_close(loss, 1.4586261050419047, rtol=1e-6, name="loss")
    assert_close(y_hat[0], [0.487093350513, 0.192756950627, 0.32014969886], rtol=1e-6, name="y_hat[0]")
    assert_keys(out, ("z1", "a1", "z2", "y_hat"), name="params (forward caches)")


@pytest.mark.task("A1.6")
def test_forward_shapes_three_hidden_layers(student):
    x, labels, params = tiny_problem(sizes=(7, 6, 5, 4, 3))
    loss, y_hat, out = student.module(MOD).forward_pass(x, labels, params)
    assert_shape(y_hat, (6, 3), name="y_hat")
    assert_close(np.sum(y_hat, axis=1), np.ones(6), name="rows of y_hat")
    for layer, width in zip(range(1, 4), (6, 5, 4)):
        assert_shape(out[f"a{layer}"], (6, width), name=f"a{layer}")


@pytest.mark.task("A1.7")
def test_backward_matches_numerical_gradient(student):
    mlp = student.module(MOD)
    reg = 0.02
    x, labels, params = tiny_problem(seed=2, sizes=(5, 4, 4, 3, 3))
    _, _, cached = mlp.forward_pass(x, labels, params)
    grad = mlp.backward_pass(x, labels, cached, reg)

    def objective():
        loss = mlp.forward_pass(x, labels, params)[0]
        return loss + reg * sum(np.sum(params[f"W{layer}"] ** 2) for layer in range(1, 5))

    for key in keys(4):
        assert_close(grad[key], numerical_gradient(objective, params[key]), rtol=1e-4, atol=1e-7,
                     name=f"grad[{key!r}] vs. numerical gradient")


@pytest.mark.task("A1.8")
def test_overfit_one_batch(student):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 8))
    y = np.eye(3)[rng.integers(0, 3, size=20)]
    _, _, params = tiny_problem(seed=4, sizes=(8, 12, 10, 8, 3), scale=1.0)
    args = Namespace(num_epochs=100, num_hidden_layers=[12, 10, 8], batch_size=20, reg=0.0,
                     learning_rate=2.0, one_batch_training=True)
    trained, history = student.module(MOD).run_training(args, {"train": (x, y), "val": (x[:5], y[:5])},
                                                         params)
    assert history["accu_train"][-1] == 1.0, \
        f"after 100 epochs on one batch, training accuracy is {history['accu_train'][-1]}, expected 1.0"
    assert_keys(trained, keys(4), name="trained params")
