"""Hidden tests for a1_mlp_3_layers.py: the student's values against the solution's on fresh
inputs, one exact epoch of SGD, and the course's regression test on MNIST (never released)."""

from argparse import Namespace

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_keys, assert_shape
from dlcc.errors import DlccError

MOD = "a1_mlp_3_layers"
KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def problem(seed, sizes=(20, 12, 8, 10), batch=16, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, sizes[0]))
    labels = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    params = {}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = rng.normal(scale=scale, size=(sizes[layer - 1], sizes[layer]))
        params[f"b{layer}"] = rng.normal(scale=0.2, size=(1, sizes[layer]))
    return x, labels, params


@pytest.mark.task("A1.1")
def test_initialize_params_statistics(student):
    params = student.module(MOD).initialize_params(784, 200, 100, 10)
    for key, shape in zip(KEYS, [(784, 200), (1, 200), (200, 100), (1, 100), (100, 10), (1, 10)]):
        assert_shape(params[key], shape, name=key)
    # every weight matrix is standard normal (bounds: > 6 standard errors for W3's 1000 values)
    for key, (lo, hi, most) in {"W1": (0.97, 1.03, 0.02), "W2": (0.93, 1.07, 0.05),
                                "W3": (0.85, 1.15, 0.2)}.items():
        w = np.asarray(params[key])
        assert lo < w.std() < hi and abs(w.mean()) < most, \
            f"{key} should be standard normal (np.random.randn): mean {w.mean():.3f}, std {w.std():.3f}"
    for key in ("b1", "b2", "b3"):
        assert_close(params[key], np.zeros_like(params[key]), name=key)


@pytest.mark.task("A1.2")
@pytest.mark.parametrize("seed", [10, 11])
def test_forward_matches_solution(student, solution, seed):
    x, labels, params = problem(seed)
    loss, y_hat, out = student.module(MOD).forward_pass(x, labels, params)
    ref_loss, ref_y_hat, ref = solution.module(MOD).forward_pass(x, labels, dict(params))
    assert_close(loss, ref_loss, rtol=1e-7, name="loss")
    assert_close(y_hat, ref_y_hat, rtol=1e-7, atol=1e-12, name="y_hat")
    assert_keys(out, ("z1", "a1", "z2", "a2", "z3"), name="params (forward caches)")
    for key in ("z1", "a1", "z2", "a2", "z3"):
        assert_close(out[key], ref[key], rtol=1e-7, atol=1e-12, name=key)


@pytest.mark.task("A1.2")
def test_forward_large_scores_stay_finite(student, solution):
    x, labels, params = problem(12, scale=8.0)
    loss, y_hat, _ = student.module(MOD).forward_pass(30 * x, labels, params)
    ref_loss, _, _ = solution.module(MOD).forward_pass(30 * x, labels, dict(params))
    assert np.isfinite(loss) and np.all(np.isfinite(y_hat)), "loss or y_hat is not finite for large scores"
    assert_close(loss, ref_loss, rtol=1e-6, name="loss for large scores")


def _compare_backward(student, solution, reg, seed):
    x, labels, params = problem(seed)
    _, _, cached = student.module(MOD).forward_pass(x, labels, params)
    grad = student.module(MOD).backward_pass(x, labels, cached, reg)
    ref_mod = solution.module(MOD)
    _, _, ref_cached = ref_mod.forward_pass(x, labels, dict(params))
    ref = ref_mod.backward_pass(x, labels, ref_cached, reg)
    assert_keys(grad, KEYS, name="grad")
    for key in KEYS:
        assert_close(grad[key], ref[key], rtol=1e-6, atol=1e-10, name=f"grad[{key!r}] (reg={reg})")


@pytest.mark.task("A1.3")
def test_backward_matches_solution(student, solution):
    _compare_backward(student, solution, reg=0.0, seed=20)


@pytest.mark.task("A1.3")
def test_backward_regularization_matches_solution(student, solution):
    _compare_backward(student, solution, reg=0.03, seed=21)


@pytest.mark.task("A1.3")
def test_backward_strong_regularization_leaves_biases_alone(student, solution):
    _compare_backward(student, solution, reg=1.0, seed=22)


@pytest.mark.task("A1.4", weight=2)
def test_one_epoch_matches_solution(student, solution):
    """70 samples in batches of 20: three updates (the last 10 samples are not used)."""
    rng = np.random.default_rng(30)
    x = rng.normal(size=(70, 20))
    y = np.eye(10)[rng.integers(0, 10, size=70)]
    data = {"train": (x, y), "val": (x[:10], y[:10])}
    _, _, params = problem(31, scale=0.5)
    args = Namespace(num_epochs=1, num_hidden1=12, num_hidden2=8, batch_size=20, reg=0.01,
                     learning_rate=0.7, one_batch_training=False)
    trained, history = student.module(MOD).run_training(args, data, params)
    ref, _ = solution.module(MOD).run_training(args, data, {k: v.copy() for k, v in params.items()})
    assert_keys(trained, KEYS, name="trained params")
    for key in KEYS:
        assert_close(trained[key], ref[key], rtol=1e-8, atol=1e-12, name=f"{key} after one epoch")


@pytest.mark.data
@pytest.mark.task("A1.4", weight=3, timeout=120)
def test_course_regression_mnist(student, solution):
    """The course's settings on real MNIST: hidden 200/100, batch 1000, lr 5.0, reg 1e-4,
    seed 1024, the student's own initialisation. After 3 epochs the test accuracy must pass
    0.85 (the solution reaches 0.865; 0.862-0.876 over eight seeds). The course's 30 epochs
    are left to the student's own run: at lr 5.0 the accuracy jumps between epochs (0.62 to
    0.96 after 20 epochs), which would make a 30-epoch threshold a lottery, and it costs 60 s
    of CPU per submission. Accuracy is measured here with the solution's evaluate."""
    try:
        test_x, test_y = solution.module("util").load_data()["test"]
    except DlccError as exc:
        pytest.skip(f"MNIST is not available to the grader: {exc.message}")
    util = student.module("util")
    util.set_seed(1024)
    data = util.load_data.keep()
    args = Namespace(num_epochs=3, num_hidden1=200, num_hidden2=100, batch_size=1000, reg=1e-4,
                     learning_rate=5.0, one_batch_training=False)
    trained, history = student.module(MOD).run_training(args, data)
    assert_keys(trained, KEYS, name="trained params")
    _, accuracy = solution.module(MOD).evaluate(test_x, test_y, trained)
    assert accuracy > 0.85, f"test accuracy after 3 epochs {accuracy:.4f} is not above 0.85"
