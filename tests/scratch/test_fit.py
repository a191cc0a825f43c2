"""The scratch training loop: learns, matches a hand-written loop, schedules, callbacks,
divergence, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from dlcc.errors import ConfigError, InputError, TrainingDiverged
from dlcc.scratch.base import Module
from dlcc.scratch.fit import evaluate, fit, l2_penalty, predict
from dlcc.scratch.optim import SGD, Adam
from dlcc.scratch.schedules import OneCycleLR, StepLR


class Affine(Module):
    def __init__(self, n_in, n_out, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.params = {"weight": rng.normal(0, 0.1, size=(n_out, n_in)), "bias": np.zeros(n_out)}

    def forward(self, x):
        self.x = x
        return x @ self.params["weight"].T + self.params["bias"]

    def backward(self, dy):
        self.grads["weight"] = dy.T @ self.x
        self.grads["bias"] = dy.sum(0)
        return dy @ self.params["weight"]


def softmax_ce(logits, y):
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y] + 1e-300).mean()
    p[np.arange(n), y] -= 1
    return loss, p / n


def mse(pred, y):
    diff = pred.reshape(y.shape) - y
    return float((diff ** 2).mean()), (2 * diff / diff.size).reshape(pred.shape)


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    y = rng.integers(0, 3, n)
    return centers[y] + rng.normal(0, 0.6, (n, 2)), y


def test_learns_a_separable_problem_and_reports_history():
    x, y = blobs()
    xv, yv = blobs(100, seed=1)
    model = Affine(2, 3)
    history = fit(model, softmax_ce, SGD(model, lr=0.5), train=(x, y), val=(xv, yv),
                  epochs=8, batch_size=32, rng=0)
    assert set(history) == {"epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "time_s"}
    assert history["epoch"] == list(range(1, 9))
    assert all(len(v) == 8 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_accuracy"][-1] > 0.95
    final = evaluate(model, softmax_ce, xv, yv)
    assert final == {"loss": history["val_loss"][-1], "accuracy": history["val_accuracy"][-1]}


def test_equals_a_hand_written_loop_without_shuffling():
    x, y = blobs(70)
    model, ref = Affine(2, 3), Affine(2, 3)
    fit(model, softmax_ce, SGD(model, lr=0.3, momentum=0.9), train=(x, y), epochs=3,
        batch_size=16, shuffle=False)
    opt = SGD(ref, lr=0.3, momentum=0.9)
    for _ in range(3):
        for start in range(0, 70, 16):
            _, d = softmax_ce(ref.forward(x[start:start + 16]), y[start:start + 16])
            ref.backward(d)
            opt.step()
    for key in ref.params:
        np.testing.assert_array_equal(model.params[key], ref.params[key])


def test_seeded_shuffling_is_reproducible():
    x, y = blobs(90)
    runs = []
    for _ in range(2):
        model = Affine(2, 3)
        runs.append(fit(model, softmax_ce, Adam(model, lr=0.05), train=(x, y), epochs=3,
                        batch_size=20, rng=np.random.default_rng(5))["train_loss"])
    assert runs[0] == runs[1]


def test_full_train_metrics_equal_evaluate():
    x, y = blobs(60)
    model = Affine(2, 3)
    history = fit(model, softmax_ce, SGD(model, lr=0.1), train=(x, y), epochs=2, batch_size=16,
                  train_metrics="full", rng=0)
    assert history["train_loss"][-1] == pytest.approx(evaluate(model, softmax_ce, x, y)["loss"])


def test_epoch_and_batch_schedules():
    x, y = blobs(50)
    model = Affine(2, 3)
    opt = SGD(model, lr=0.1)
    history = fit(model, softmax_ce, opt, train=(x, y), epochs=5, batch_size=10,
                  schedule=StepLR(opt, step_size=2, gamma=0.5), rng=0)
    np.testing.assert_allclose(history["lr"], [0.1, 0.1, 0.05, 0.05, 0.025])
    opt = SGD(model, lr=0.1, momentum=0.9)
    one = OneCycleLR(opt, max_lr=0.2, epochs=3, steps_per_epoch=5)     # 50 samples / 10 = 5 batches
    fit(model, softmax_ce, opt, train=(x, y), epochs=3, batch_size=10, schedule=one, rng=0)
    assert one.last_step == 15 and opt.lr == pytest.approx(one.lr_at(15))


def test_callback_can_stop_training():
    x, y = blobs(40)
    seen = []

    def callback(epoch, history):
        seen.append((epoch, len(history["train_loss"])))
        return epoch == 2
    model = Affine(2, 3)
    history = fit(model, softmax_ce, SGD(model, lr=0.1), train=(x, y), epochs=10, batch_size=8,
                  callback_per_epoch=callback, rng=0)
    assert seen == [(1, 1), (2, 2)] and history["epoch"] == [1, 2]


def test_regression_has_no_accuracy_and_binary_labels_do():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3
    model = Affine(3, 1)
    history = fit(model, mse, SGD(model, lr=0.1), train=(x, y), val=(x, y), epochs=30, batch_size=16, rng=0)
    assert "train_accuracy" not in history and "val_accuracy" not in history
    assert history["val_loss"][-1] < 1e-3
    labels = (y > 0).astype(np.float64)
    assert 0.0 <= evaluate(model, mse, x, labels)["accuracy"] <= 1.0
    assert predict(model, x, batch_size=10).shape == (64, 1)


def test_nan_loss_stops_with_training_diverged():
    x, y = blobs(40)
    calls = []

    def flaky(logits, labels):
        calls.append(1)
        loss, d = softmax_ce(logits, labels)
        return (np.nan if len(calls) == 3 else loss), d
    model = Affine(2, 3)
    with pytest.raises(TrainingDiverged, match=r"loss is nan at epoch 1, batch 3/4 \(lr=0.1\)") as info:
        fit(model, flaky, SGD(model, lr=0.1), train=(x, y), epochs=2, batch_size=10, rng=0)
    assert "lower the learning rate" in info.value.fix


def test_a_too_large_learning_rate_diverges_loudly():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)) * 10
    y = x.sum(1)
    model = Affine(3, 1)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged, match=r"loss is (inf|nan) at epoch"):
        fit(model, mse, SGD(model, lr=10.0), train=(x, y), epochs=50, batch_size=16, rng=0)


def test_evaluate_restores_the_mode_and_progress_bar_only_when_asked(capsys):
    x, y = blobs(30)
    model = Affine(2, 3)
    model.train()
    evaluate(model, softmax_ce, x, y)
    assert model.training
    fit(model, softmax_ce, SGD(model, lr=0.1), train=(x, y), epochs=1, batch_size=10, rng=0)
    assert capsys.readouterr().err == ""         # stderr is not a terminal under pytest
    fit(model, softmax_ce, SGD(model, lr=0.1), train=(x, y), epochs=1, batch_size=10, rng=0, progress=True)
    assert "epoch 1/1" in capsys.readouterr().err


def test_l2_penalty_touches_weights_only():
    model = Affine(2, 3)
    model.grads = {"weight": np.zeros((3, 2)), "bias": np.zeros(3)}
    model.params["bias"][:] = 1.0
    l2_penalty(0.5)(model)
    np.testing.assert_allclose(model.grads["weight"], model.params["weight"])
    np.testing.assert_array_equal(model.grads["bias"], 0.0)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(train=(np.zeros((5, 2)), np.zeros(4, dtype=int))), InputError, r"x has 5 samples \(shape \(5, 2\)\) but y has 4"),
    (dict(train=np.zeros((5, 2))), InputError, "train must be a pair"),
    (dict(train=(np.zeros((0, 2)), np.zeros(0, dtype=int))), InputError, "empty"),
    (dict(batch_size=0), ConfigError, "batch_size must be a positive integer"),
    (dict(epochs=-1), ConfigError, "epochs must be a non-negative integer"),
    (dict(train_metrics="all"), ConfigError, "train_metrics"),
    (dict(val=(np.zeros((3, 2)), np.zeros(2, dtype=int))), InputError, "val x has 3 samples"),
])
def test_bad_input(kwargs, error, match):
    model = Affine(2, 3)
    args = dict(train=blobs(20), epochs=1, batch_size=4)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        fit(model, softmax_ce, SGD(model, lr=0.1), **args)


def test_with_the_engine_layers_when_present():
    layers = pytest.importorskip("dlcc.scratch.layers")
    x, y = blobs(200)
    rng = np.random.default_rng(0)
    model = layers.Sequential(layers.Linear(2, 16, rng=rng), layers.ReLU(), layers.Linear(16, 3, rng=rng))
    history = fit(model, softmax_ce, Adam(model, lr=0.01), train=(x.astype(np.float32), y),
                  epochs=10, batch_size=32, rng=0)
    assert history["train_accuracy"][-1] > 0.9
