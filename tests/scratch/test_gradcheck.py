"""gradcheck passes on correct layers, names the parameter on a wrong backward, and warns at kinks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dlcc.scratch.base import Module
from dlcc.scratch.gradcheck import GradcheckError, GradcheckWarning, gradcheck
from dlcc.scratch.recurrent import GRU, LSTM, RNN


class Affine(Module):
    """A minimal y = x W^T + b, with switchable bugs."""

    def __init__(self, n_in, n_out, bug=None, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.params = {"weight": rng.normal(size=(n_out, n_in)), "bias": rng.normal(size=n_out)}
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.params["weight"].T + self.params["bias"]

    def backward(self, dy):
        self.grads["weight"] = dy.T @ self.x
        self.grads["bias"] = dy.sum(0) * (2.0 if self.bug == "bias" else 1.0)
        if self.bug == "no_weight_grad":
            del self.grads["weight"]
        dx = dy @ self.params["weight"]
        if self.bug == "input":
            dx = dx.copy()
            dx[1, 2] += 0.5
        return dx


class Relu(Module):
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dy):
        return dy * self.mask


class RowMax(Module):
    def forward(self, x):
        self.x = x
        return x.max(axis=1)

    def backward(self, dy):
        first = np.argmax(self.x, axis=1)
        dx = np.zeros_like(self.x)
        dx[np.arange(len(dy)), first] = dy
        return dx


def x_of(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.parametrize("make", [
    lambda: RNN(3, 4, num_layers=2, dtype=np.float64, rng=np.random.default_rng(0)),
    lambda: RNN(3, 4, nonlinearity="relu", dtype=np.float64, rng=np.random.default_rng(0)),
    lambda: GRU(3, 4, num_layers=2, batch_first=True, dtype=np.float64, rng=np.random.default_rng(0)),
])
def test_passes_on_rnn_and_gru_with_initial_state(make):
    rnn = make()
    x = x_of(2, 5, 3) if rnn.batch_first else x_of(5, 2, 3)      # batch 2, length 5
    report = gradcheck(rnn, (x, x_of(rnn.num_layers, 2, 4, seed=2)))
    assert report.ok
    names = [a.name for a in report.arrays]
    assert names[:2] == ["input 0", "input 1"] and "weight_hh_l0" in names
    assert report.max_rel_error < 1e-5


def test_passes_on_lstm_with_nested_state_and_checks_every_array():
    lstm = LSTM(3, 4, num_layers=2, dtype=np.float64, rng=np.random.default_rng(0))
    report = gradcheck(lstm, (x_of(4, 2, 3), (x_of(2, 2, 4, seed=2), x_of(2, 2, 4, seed=3))))
    assert report.ok, str(report)
    assert [a.name for a in report.arrays][:3] == ["input 0", "input 1[0]", "input 1[1]"]
    assert len(report.arrays) == 3 + 8


def test_float32_module_is_checked_on_a_float64_copy():
    gru = GRU(3, 4, rng=np.random.default_rng(0))
    before = {k: v.copy() for k, v in gru.params.items()}
    assert gradcheck(gru, x_of(3, 2, 3)).ok
    assert all(gru.params[k].dtype == np.float32 for k in gru.params)
    assert all(np.array_equal(gru.params[k], before[k]) for k in before)


def test_names_the_parameter_with_a_wrong_gradient():
    with pytest.raises(GradcheckError) as info:
        gradcheck(Affine(3, 2, bug="bias"), x_of(4, 3))
    message = str(info.value)
    assert "parameter bias (2,)" in message and "worst at index" in message
    assert "analytic" in message and "numeric" in message and "relative error" in message
    failing = info.value.report.failures
    assert [a.name for a in failing] == ["bias"]
    worst = failing[0]
    assert worst.analytic == pytest.approx(2 * worst.numeric, rel=1e-6)
    assert worst.rel_error == pytest.approx(0.5, rel=1e-6)


def test_names_the_input_and_the_worst_index():
    with pytest.raises(GradcheckError, match=r"input input 0 \(4, 3\): worst at index \(1, 2\)"):
        gradcheck(Affine(3, 2, bug="input"), x_of(4, 3))


def test_missing_gradient_fails():
    report = gradcheck(Affine(3, 2, bug="no_weight_grad"), x_of(4, 3), raise_on_failure=False)
    assert not report.ok and report.failures[0].name == "weight"
    assert "FAIL  parameter weight" in str(report)


class BuggyLSTM(LSTM):
    def backward(self, d_output, d_h_n=None):
        out = super().backward(d_output, d_h_n)
        self.grads["weight_hh_l1"] = self.grads["weight_hh_l1"] * 1.01   # a 1% error
        return out


def test_catches_a_small_error_deep_in_a_recurrent_layer():
    lstm = BuggyLSTM(3, 4, num_layers=2, dtype=np.float64, rng=np.random.default_rng(0))
    with pytest.raises(GradcheckError, match="parameter weight_hh_l1") as info:
        gradcheck(lstm, x_of(4, 2, 3))
    assert [a.name for a in info.value.report.failures] == ["weight_hh_l1"]


def test_warns_near_a_relu_kink_and_skips_those_entries():
    x = x_of(3, 4)
    x[1, 2] = 3e-7                       # within eps=1e-6 of the kink at 0
    with pytest.warns(GradcheckWarning, match=r"input 0: 1 entries, e.g. index \(1, 2\)"):
        report = gradcheck(Relu(), x)
    assert report.ok and report.arrays[0].kinks == [(1, 2)] and report.arrays[0].checked == 11


def test_warns_on_max_ties():
    x = x_of(3, 4)
    x[0, 3] = x[0, 1] = 5.0              # a tie: the max is not differentiable there
    with pytest.warns(GradcheckWarning, match="kink"):
        report = gradcheck(RowMax(), x)
    assert sorted(report.arrays[0].kinks) == [(0, 1), (0, 3)]


def test_no_warning_away_from_kinks():
    x = x_of(3, 4)
    x[np.abs(x) < 0.1] = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(Relu(), x).ok


def softmax_ce(logits, y):
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean()
    grad = p.copy()
    grad[np.arange(n), y] -= 1
    return loss, grad / n


def test_function_target_with_integer_labels():
    y = np.array([0, 2, 1, 2])
    assert gradcheck(softmax_ce, (x_of(4, 3), y)).ok

    def wrong(logits, labels):
        loss, grad = softmax_ce(logits, labels)
        return loss, grad * len(labels)          # forgot to average
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(wrong, (x_of(4, 3), y))


def test_big_arrays_are_sampled():
    report = gradcheck(Affine(60, 20), x_of(8, 60), max_entries=25)
    assert report.ok
    assert {a.name: a.checked for a in report.arrays} == {"input 0": 25, "weight": 25, "bias": 20}


def test_rejects_a_non_deterministic_forward():
    class Noisy(Relu):
        def forward(self, x):
            return x + np.random.default_rng().normal(size=x.shape)
    with pytest.raises(GradcheckError, match="not deterministic"):
        gradcheck(Noisy(), x_of(2, 2))


def test_the_engine_layers_pass():
    layers = pytest.importorskip("dlcc.scratch.layers")
    rng = np.random.default_rng(0)
    model = layers.Sequential(layers.Linear(5, 6, rng=rng, dtype=np.float64), layers.Tanh(),
                              layers.Linear(6, 3, rng=rng, dtype=np.float64))
    report = gradcheck(model, x_of(4, 5))
    assert report.ok
    assert [a.name for a in report.arrays] == ["input 0", "0.weight", "0.bias", "2.weight", "2.bias"]


def test_engine_conv_and_norm_stack_passes():
    layers = pytest.importorskip("dlcc.scratch.layers")
    rng = np.random.default_rng(0)
    model = layers.Sequential(
        layers.Conv2d(2, 3, (3, 2), stride=2, padding=1, rng=rng, dtype=np.float64),
        layers.BatchNorm2d(3, dtype=np.float64), layers.Tanh(), layers.Flatten(),
        layers.LayerNorm(3 * 3 * 4, dtype=np.float64))
    report = gradcheck(model, x_of(2, 2, 5, 6), max_entries=60)
    assert report.ok, str(report)


def test_engine_maxpool_ties_warn():
    layers = pytest.importorskip("dlcc.scratch.layers")
    x = x_of(1, 1, 4, 4)
    x[0, 0, 0, 0] = x[0, 0, 0, 1] = 9.0          # a tie inside the first 2x2 window
    with pytest.warns(GradcheckWarning, match="kink"):
        report = gradcheck(layers.MaxPool2d(2), x)
    assert report.ok and set(report.arrays[0].kinks) == {(0, 0, 0, 0), (0, 0, 0, 1)}


def test_engine_cross_entropy_as_a_function_target():
    losses = pytest.importorskip("dlcc.scratch.losses")
    y = np.array([2, 0, 1])
    assert gradcheck(losses.cross_entropy, (x_of(3, 4), y)).ok
    assert gradcheck(lambda z, t: losses.cross_entropy(z, t, label_smoothing=0.1), (x_of(3, 4), y)).ok
