"""Losses against torch: value and gradient (float64, relative error <= 1e-6), plus bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _layer_parity import assert_close, to_np
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcc.errors import InputError
from dlcc.scratch.losses import (BCEWithLogitsLoss, CrossEntropyLoss, MSELoss,
                                 binary_cross_entropy_with_logits, cross_entropy, mse_loss,
                                 softmax_cross_entropy)

F64 = np.float64


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def torch_loss_and_grad(fn, logits, *args, **kwargs):
    xt = torch.from_numpy(logits.copy()).requires_grad_()
    loss = fn(xt, *args, **kwargs)
    loss.backward()
    return loss.item(), to_np(xt.grad)


def assert_loss_parity(ours, theirs, what):
    (loss, grad), (t_loss, t_grad) = ours, theirs
    assert isinstance(loss, float)
    assert_close(loss, t_loss, f"{what} loss")
    assert_close(grad, t_grad, f"{what} grad")


# --- cross-entropy --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 2), (8, 10), (5, 3, 4), (2, 4, 3, 3)])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_integer_labels(shape, smoothing, reduction):
    logits = 3 * randn(*shape)
    labels = np.random.default_rng(1).integers(0, shape[1], size=(shape[0],) + shape[2:])
    ours = cross_entropy(logits, labels, label_smoothing=smoothing, reduction=reduction)
    theirs = torch_loss_and_grad(F.cross_entropy, logits, torch.from_numpy(labels),
                                 label_smoothing=smoothing, reduction=reduction)
    assert_loss_parity(ours, theirs, "cross_entropy")


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_ignore_index(smoothing):
    logits = randn(6, 4)
    labels = np.array([0, -100, 3, 2, -100, 1])
    ours = cross_entropy(logits, labels, label_smoothing=smoothing)
    theirs = torch_loss_and_grad(F.cross_entropy, logits, torch.from_numpy(labels),
                                 label_smoothing=smoothing)
    assert_loss_parity(ours, theirs, "cross_entropy ignore_index")
    assert not ours[1][[1, 4]].any()
    ours = cross_entropy(logits, np.where(labels < 0, 3, labels), ignore_index=3)
    theirs = torch_loss_and_grad(F.cross_entropy, logits,
                                 torch.from_numpy(np.where(labels < 0, 3, labels)), ignore_index=3)
    assert_loss_parity(ours, theirs, "cross_entropy ignore_index=3")


@pytest.mark.parametrize("shape", [(1, 3), (6, 5), (3, 4, 2, 2)])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_cross_entropy_soft_and_one_hot_labels(shape, smoothing):
    logits = randn(*shape)
    probs = np.random.default_rng(2).random(shape)
    probs /= probs.sum(axis=1, keepdims=True)
    for target in (probs, np.eye(shape[1])[np.zeros((shape[0],) + shape[2:], int)].swapaxes(1, -1)):
        target = np.ascontiguousarray(target)
        ours = cross_entropy(logits, target, label_smoothing=smoothing)
        theirs = torch_loss_and_grad(F.cross_entropy, logits, torch.from_numpy(target),
                                     label_smoothing=smoothing)
        assert_loss_parity(ours, theirs, "cross_entropy soft")


def test_one_hot_and_integer_labels_agree():
    logits, labels = randn(5, 4), np.array([0, 3, 1, 1, 2])
    a, b = cross_entropy(logits, labels), cross_entropy(logits, np.eye(4)[labels])
    assert_close(a[0], b[0], "loss")
    assert_close(a[1], b[1], "grad")


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 0.0]])
    labels = np.array([1, 1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ours = cross_entropy(logits, labels)
    theirs = torch_loss_and_grad(F.cross_entropy, logits, torch.from_numpy(labels))
    assert_loss_parity(ours, theirs, "huge logits")


@settings(max_examples=25, deadline=None, derandomize=True)
@given(n=st.integers(1, 8), c=st.integers(2, 7), scale=st.floats(0.01, 50.0),
       smoothing=st.sampled_from([0.0, 0.05, 0.5]), seed=st.integers(0, 2**16))
def test_cross_entropy_parity_hypothesis(n, c, scale, smoothing, seed):
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((n, c))
    labels = rng.integers(0, c, n)
    ours = cross_entropy(logits, labels, label_smoothing=smoothing)
    theirs = torch_loss_and_grad(F.cross_entropy, logits, torch.from_numpy(labels),
                                 label_smoothing=smoothing)
    assert_loss_parity(ours, theirs, "cross_entropy")


def test_cross_entropy_float32_and_aliases():
    logits = randn(4, 3).astype(np.float32)
    loss, grad = softmax_cross_entropy(logits, np.array([0, 1, 2, 0]))
    assert grad.dtype == np.float32 and grad.shape == (4, 3)
    loss2, _ = CrossEntropyLoss()(logits, np.array([0, 1, 2, 0]))
    assert loss == loss2


# --- binary cross-entropy with logits -------------------------------------------------------
@pytest.mark.parametrize("shape", [(1,), (7,), (4, 3), (2, 3, 5)])
@pytest.mark.parametrize("pos_weight", [None, 2.5, "per_class"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits_parity(shape, pos_weight, reduction):
    logits = 4 * randn(*shape)
    target = np.random.default_rng(3).random(shape)
    target[..., 0] = np.round(target[..., 0])                  # some hard 0/1 labels
    if pos_weight == "per_class":
        pos_weight = np.linspace(0.5, 3.0, shape[-1])
    t_pw = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float64)
    ours = binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction=reduction)
    theirs = torch_loss_and_grad(F.binary_cross_entropy_with_logits, logits,
                                 torch.from_numpy(target), pos_weight=t_pw, reduction=reduction)
    assert_loss_parity(ours, theirs, "bce_with_logits")


def test_bce_with_logits_is_stable_and_accepts_integer_labels():
    logits = np.array([1000.0, -1000.0, 50.0, -50.0])
    target = np.array([0, 1, 1, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        ours = BCEWithLogitsLoss()(logits, target)
    theirs = torch_loss_and_grad(F.binary_cross_entropy_with_logits, logits,
                                 torch.from_numpy(target.astype(F64)))
    assert_loss_parity(ours, theirs, "bce huge logits")


# --- MSE ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1,), (5, 1), (3, 4, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_parity(shape, reduction):
    pred, target = randn(*shape), randn(*shape, seed=1)
    ours = mse_loss(pred, target, reduction=reduction)
    theirs = torch_loss_and_grad(F.mse_loss, pred, torch.from_numpy(target), reduction=reduction)
    assert_loss_parity(ours, theirs, "mse")
    assert_loss_parity(MSELoss(reduction=reduction)(pred, target), theirs, "MSELoss")


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("call,match", [
    (lambda: cross_entropy(np.ones((4, 3)), np.array([0, 1, 2])), r"targets have shape \(3,\).*\(4,\)"),
    (lambda: cross_entropy(np.ones((2, 3)), np.array([0, 3])), r"class id 3 .* 3 classes"),
    (lambda: cross_entropy(np.ones((2, 3)), np.array([0, -1])), r"class id -1"),
    (lambda: cross_entropy(np.ones((2, 3), dtype=int), np.array([0, 1])), r"logits has dtype int"),
    (lambda: cross_entropy(np.ones(3), np.array([0])), r"logits have shape \(3,\)"),
    (lambda: cross_entropy(np.array([[np.nan, 0.0]]), np.array([0])), r"NaN/inf"),
    (lambda: cross_entropy(np.ones((2, 3)), np.ones((2, 4))), r"probability targets have shape \(2, 4\)"),
    (lambda: cross_entropy(np.ones((2, 3)), np.array([-100, -100])), r"ignore_index"),
    (lambda: cross_entropy(np.ones((2, 3)), np.array([0, 1]), reduction="none"), r"reduction"),
    (lambda: binary_cross_entropy_with_logits(np.ones((2, 3)), np.ones((3, 2))), r"target has shape \(3, 2\)"),
    (lambda: binary_cross_entropy_with_logits(np.ones(2), np.array([np.inf, 0.0])), r"target .*NaN/inf"),
    (lambda: binary_cross_entropy_with_logits(np.ones((2, 3)), np.ones((2, 3)), pos_weight=np.ones(2)),
     r"pos_weight of shape \(2,\)"),
    (lambda: mse_loss(np.ones((4, 1)), np.ones(4)), r"target has shape \(4,\), expected .*\(4, 1\)"),
    (lambda: mse_loss(np.full(3, 1e30, dtype=np.float32), np.zeros(3)), r"mse_loss: loss is inf"),
])
def test_loss_bad_input_raises_input_error(call, match):
    with pytest.raises(InputError, match=match):
        call()
