"""Public tests for a1_mlp_3_layers.py: shapes, known values, a numerical gradient check and
overfitting one small batch. Run them with `dlcc course test A1` (or plain `pytest`).

The grader runs more (hidden) tests on each task, so passing these is necessary, not sufficient.
"""

from argparse import Namespace

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_keys, assert_shape, numerical_gradient

MOD = "a1_mlp_3_layers"
KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def tiny_problem(seed=0, sizes=(7, 5, 4, 3), batch=6, scale=0.5):
    """A small batch, one-hot labels and fixed parameters (not from your initialize_params)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, sizes[0]))
    labels = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    params = {}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = rng.normal(scale=scale, size=(sizes[layer - 1], sizes[layer]))
        params[f"b{layer}"] = rng.normal(scale=0.1, size=(1, sizes[layer]))
    return x, labels, params


@pytest.mark.task("A1.1")
def test_initialize_params_shapes(student):
    params = student.module(MOD).initialize_params(7, 5, 4, 3)
    assert_keys(params, KEYS)
    for key, shape in zip(KEYS, [(7, 5), (1, 5), (5, 4), (1, 4), (4, 3), (1, 3)]):
        assert_shape(params[key], shape, name=key)
    for key in ("b1", "b2", "b3"):
        assert_close(params[key], np.zeros_like(params[key]), name=f"{key} (biases start at zero)")
    assert np.std(params["W1"]) > 0.5, "W1 should hold standard normal values (np.random.randn)"


@pytest.mark.task("A1.2")
def test_forward_shapes_and_caches(student):
    x, labels, params = tiny_problem()
    loss, y_hat, out = student.module(MOD).forward_pass(x, labels, params)
    assert_shape(y_hat, (6, 3), name="y_hat")
    assert_close(np.sum(y_hat, axis=1), np.ones(6), name="rows of y_hat (probabilities sum to 1)")
    assert np.isscalar(loss) or np.ndim(loss) == 0, f"loss should be a number, got {type(loss)}"
    assert_keys(out, ("z1", "a1", "z2", "a2", "z3", "y_hat"), name="params (forward caches)")
    for key, shape in (("z1", (6, 5)), ("a1", (6, 5)), ("z2", (6, 4)), ("a2", (6, 4)), ("z3", (6, 3))):
        assert_shape(out[key], shape, name=key)


@pytest.mark.task("A1.2")
def test_forward_known_values(student):
    x, labels, params = tiny_problem()
    loss, y_hat, _ = student.module(MOD).forward_pass(x, labels, params)
    assert_close(loss, 0.9686768442879791, rtol=1e-6, name="loss")
    assert_close(y_hat[0], [0.265769163127, 0.390676777247, 0.343554059626], rtol=1e-6,
                 name="y_hat[0]")


def _check_gradients(student, reg):
    mlp = student.module(MOD)
    x, labels, params = tiny_problem(seed=2)
    _, _, cached = mlp.forward_pass(x, labels, params)
    grad = mlp.backward_pass(x, labels, cached, reg)
    assert_keys(grad, KEYS, name="grad")

    def objective():
        loss = mlp.forward_pass(x, labels, params)[0]
        return loss + reg * sum(np.sum(params[k] ** 2) for k in ("W1", "W2", "W3"))

    for key in KEYS:
        assert_shape(grad[key], params[key].shape, name=f"grad[{key!r}]")
        assert_close(grad[key], numerical_gradient(objective, params[key]), rtol=1e-4, atol=1e-7,
                     name=f"grad[{key!r}] vs. numerical gradient")


@pytest.mark.task("A1.3")
def test_backward_matches_numerical_gradient(student):
    _check_gradients(student, reg=0.0)


@pytest.mark.task("A1.3")
def test_backward_with_l2_regularization(student):
    _check_gradients(student, reg=0.05)


def _synthetic(seed=3, n=20, d=8, classes=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.eye(classes)[rng.integers(0, classes, size=n)]
    return {"train": (x, y), "val": (x[:5], y[:5])}


@pytest.mark.task("A1.4")
def test_overfit_one_batch(student):
    """The course's debugging recipe: a correct network learns one small batch perfectly."""
    _, _, params = tiny_problem(seed=4, sizes=(8, 16, 16, 3), scale=1.0)
    args = Namespace(num_epochs=100, num_hidden1=16, num_hidden2=16, batch_size=20, reg=0.0,
                     learning_rate=2.0, one_batch_training=True)
    trained, history = student.module(MOD).run_training(args, _synthetic(), params)
    assert history["accu_train"][-1] == 1.0, \
        f"after 100 epochs on one batch, training accuracy is {history['accu_train'][-1]}, expected 1.0"
    assert history["loss_train"][-1] < 0.1, f"final training loss {history['loss_train'][-1]:.4f} >= 0.1"


@pytest.mark.task("A1.4")
def test_run_training_returns_weights_and_history(student):
    _, _, params = tiny_problem(seed=5, sizes=(8, 6, 5, 3))
    args = Namespace(num_epochs=2, num_hidden1=6, num_hidden2=5, batch_size=7, reg=0.0,
                     learning_rate=0.5, one_batch_training=False)
    trained, history = student.module(MOD).run_training(args, _synthetic(n=21), params)
    assert_keys(trained, KEYS, name="trained params")
    for key in KEYS:
        assert_shape(trained[key], params[key].shape, name=key)
        assert not np.allclose(trained[key], params[key]), f"{key} did not change during training"
    for key in ("loss_train", "loss_val", "accu_train", "accu_val"):
        assert len(history[key]) == 2, f"history[{key!r}] should have one entry per epoch"
