"""Parity with PyTorch for the dense layers: Linear, activations, Softmax, Flatten, Dropout,
Embedding, Sequential and the mlp builder (float64, relative error <= 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layer_parity import assert_close, check_parity, to_np
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcc.scratch.layers import (GELU, Dropout, Embedding, Flatten, LeakyReLU, Linear, ReLU,
                                 Sequential, Sigmoid, Softmax, Tanh)
from dlcc.scratch.models import mlp

pytestmark = pytest.mark.usefixtures("float64_default")
F64 = np.float64


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- Linear ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,out,bias", [((1, 3), 4, True), ((5, 7), 2, True),
                                            ((5, 7), 1, False), ((2, 3, 4), 6, True),
                                            ((4,), 3, True)])
def test_linear_parity(shape, out, bias):
    tl = torch.nn.Linear(shape[-1], out, bias=bias)
    check_parity(Linear(shape[-1], out, bias=bias, dtype=F64), tl, randn(*shape))


@settings(max_examples=20, deadline=None, derandomize=True)
@given(n=st.integers(1, 9), fan_in=st.integers(1, 17), fan_out=st.integers(1, 17),
       seed=st.integers(0, 2**16))
def test_linear_parity_hypothesis(n, fan_in, fan_out, seed):
    torch.manual_seed(seed)
    check_parity(Linear(fan_in, fan_out, dtype=F64), torch.nn.Linear(fan_in, fan_out),
                 randn(n, fan_in, seed=seed), seed=seed)


def test_linear_skips_input_grad():
    layer = Linear(3, 2, dtype=F64)
    layer.forward(randn(4, 3))
    assert layer.backward(randn(4, 2), input_grad=False) is None
    assert layer.grads["weight"].shape == (2, 3)


def test_linear_default_init_matches_torch_distribution():
    # torch: kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the same.
    ours = Linear(400, 300, rng=0)
    bound = 1 / np.sqrt(400)
    w = ours.params["weight"]
    theirs = to_np(torch.nn.Linear(400, 300).weight)
    assert np.abs(w).max() <= bound and np.abs(theirs).max() <= bound
    assert abs(w.std() - theirs.std()) < 0.02 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    assert np.abs(ours.params["bias"]).max() <= bound
    assert w.dtype == np.float32


def test_linear_seeded_init_is_reproducible_and_keeps_dtype():
    a, b = Linear(5, 3, rng=7), Linear(5, 3, rng=7)
    np.testing.assert_array_equal(a.params["weight"], b.params["weight"])
    assert a.forward(randn(2, 5)).dtype == np.float32      # float64 input cast to the params
    assert Linear(5, 3, dtype=F64).forward(randn(2, 5).astype(np.float32)).dtype == F64


# --- activations ----------------------------------------------------------------------------
ACTIVATIONS = [
    (ReLU(), torch.nn.ReLU()),
    (LeakyReLU(), torch.nn.LeakyReLU()),
    (LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (Sigmoid(), torch.nn.Sigmoid()),
    (Tanh(), torch.nn.Tanh()),
    (GELU(), torch.nn.GELU()),
    (GELU("tanh"), torch.nn.GELU(approximate="tanh")),
    (Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (Softmax(dim=0), torch.nn.Softmax(dim=0)),
    (Softmax(dim=-1), torch.nn.Softmax(dim=-1)),
]


@pytest.mark.parametrize("ours,theirs", ACTIVATIONS, ids=lambda m: repr(m))
@pytest.mark.parametrize("shape", [(1, 1), (4, 5), (2, 3, 4)])
def test_activation_parity(ours, theirs, shape):
    x = 3 * randn(*shape)
    check_parity(ours, theirs, x)
    assert ours.forward(x.astype(np.float32)).dtype == np.float32


def test_relu_gradient_at_zero_is_zero_like_torch():
    x = np.array([[-1.0, 0.0, 2.0]])
    check_parity(ReLU(), torch.nn.ReLU(), x)


def test_sigmoid_and_softmax_are_stable_for_huge_inputs():
    x = np.array([[-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is benign
        assert np.isfinite(Sigmoid().forward(x)).all()
        y = Softmax(dim=1).forward(x)
    np.testing.assert_allclose(y, [[0.0, 0.0, 1.0]])
    check_parity(Sigmoid(), torch.nn.Sigmoid(), x)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(index=st.integers(0, len(ACTIVATIONS) - 1), n=st.integers(1, 6), c=st.integers(1, 6),
       scale=st.floats(0.1, 20.0), seed=st.integers(0, 2**16))
def test_activation_parity_hypothesis(index, n, c, scale, seed):
    ours, theirs = ACTIVATIONS[index]
    check_parity(ours, theirs, scale * randn(n, c, seed=seed), seed=seed)


# --- Flatten --------------------------------------------------------------------------------
@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (1, 2), (2, 3), (-2, -1)])
def test_flatten_parity(start, end):
    check_parity(Flatten(start, end), torch.nn.Flatten(start, end), randn(2, 3, 4, 5))


# --- Dropout --------------------------------------------------------------------------------
def test_dropout_is_inverted_and_routes_gradient_through_the_same_mask():
    layer = Dropout(0.3, rng=0)
    x = randn(200, 50) + 5                       # no zeros in x, so zeros mean dropped
    y = layer.forward(x)
    kept = y != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y[kept], x[kept] / 0.7)
    dy = randn(200, 50, seed=1)
    dx = layer.backward(dy)
    np.testing.assert_allclose(dx, np.where(kept, dy / 0.7, 0.0))
    # The same mask through torch's formula: x * mask / (1 - p).
    mask = torch.from_numpy(kept.astype(F64))
    xt = torch.from_numpy(x).requires_grad_()
    yt = xt * mask / 0.7
    yt.backward(torch.from_numpy(dy))
    assert_close(y, to_np(yt), "dropout forward")
    assert_close(dx, to_np(xt.grad), "dropout dx")


def test_dropout_is_deterministic_given_a_seed_and_identity_in_eval():
    x = randn(8, 8)
    np.testing.assert_array_equal(Dropout(0.5, rng=3).forward(x), Dropout(0.5, rng=3).forward(x))
    gen_a, gen_b = np.random.default_rng(11), np.random.default_rng(11)
    np.testing.assert_array_equal(Dropout(rng=gen_a).forward(x), Dropout(rng=gen_b).forward(x))
    layer = Dropout(0.5, rng=0).eval()
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)
    # Matches torch's eval behaviour and its p=0 / p=1 edge cases.
    check_parity(Dropout(0.5).eval(), torch.nn.Dropout(0.5).eval(), x)
    check_parity(Dropout(0.0), torch.nn.Dropout(0.0), x)
    check_parity(Dropout(1.0), torch.nn.Dropout(1.0), x)


def test_dropout_float32_stays_float32():
    assert Dropout(0.5, rng=0).forward(np.ones((3, 3), np.float32)).dtype == np.float32


# --- Embedding ------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
@pytest.mark.parametrize("ids_shape", [(1,), (4, 3)])
def test_embedding_parity(padding_idx, ids_shape):
    torch.manual_seed(0)
    te = torch.nn.Embedding(6, 4, padding_idx=padding_idx)
    ids = np.random.default_rng(0).integers(0, 6, size=ids_shape)
    ids.reshape(-1)[0] = ids.reshape(-1)[-1] = 5   # repeated ids must accumulate
    ours = Embedding(6, 4, padding_idx=padding_idx, dtype=F64)
    out = check_parity(ours, te, ids)
    assert out["dx"] is None


def test_embedding_default_init_is_standard_normal_with_zero_padding_row():
    w = Embedding(1000, 64, padding_idx=2, rng=0).params["weight"]
    assert abs(w.std() - 1) < 0.02 and abs(w.mean()) < 0.02
    assert not w[2].any()


# --- Sequential and mlp ---------------------------------------------------------------------
def test_sequential_names_match_torch_and_parity():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    ours = Sequential(Linear(6, 5, dtype=F64), Tanh(), Linear(5, 3, dtype=F64))
    assert [n for n, _, _ in ours.named_parameters()] == [n for n, _ in tm.named_parameters()]
    check_parity(ours, tm, randn(4, 6))
    assert len(ours) == 3 and isinstance(ours[1], Tanh)


@pytest.mark.parametrize("activation,torch_act", [("relu", torch.nn.ReLU), ("sigmoid", torch.nn.Sigmoid),
                                                  ("gelu", torch.nn.GELU)])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_mlp_parity_with_same_torch_sequential(activation, torch_act, batchnorm):
    torch.manual_seed(0)
    sizes = [7, 6, 5, 3]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers += ([torch.nn.BatchNorm1d(b)] if batchnorm else []) + [torch_act()]
    tm = torch.nn.Sequential(*layers)
    ours = mlp(sizes, activation=activation, batchnorm=batchnorm, dtype=F64)
    x = randn(5, 7)
    check_parity(ours, tm, x)
    if batchnorm:
        state = ours.state_dict()
        for key, value in tm.state_dict().items():
            if not key.endswith("num_batches_tracked"):
                assert_close(state[key], to_np(value), key)
        check_parity(ours.eval(), tm.eval(), x, copy_weights=False)


def test_sequential_backward_without_input_grad_matches_param_grads():
    torch.manual_seed(0)
    model = mlp([6, 5, 4], rng=0, dtype=F64)
    x, dy = randn(3, 6), randn(3, 4, seed=1)
    model.forward(x)
    model.backward(dy)
    full = {n: m.grads[k].copy() for n, m, k in model.named_parameters()}
    model.forward(x)
    assert model.backward(dy, input_grad=False) is None
    for n, m, k in model.named_parameters():
        np.testing.assert_array_equal(m.grads[k], full[n])
    # A parameter-free layer in front (Flatten) is skipped, the Linear behind it skips its dx.
    flat = Sequential(Flatten(), Linear(6, 2, dtype=F64))
    flat.forward(randn(3, 2, 3))
    assert flat.backward(randn(3, 2), input_grad=False) is None


def test_mlp_dropout_is_reproducible_with_a_seed():
    x = randn(4, 10)
    a = mlp([10, 8, 2], dropout=0.5, rng=1).forward(x)
    b = mlp([10, 8, 2], dropout=0.5, rng=1).forward(x)
    np.testing.assert_array_equal(a, b)


def test_load_state_dict_from_torch_float32_module_into_float32_layers():
    tl = torch.nn.Linear(4, 2).float()
    ours = Linear(4, 2)
    ours.load_state_dict(tl.state_dict())
    x = randn(3, 4).astype(np.float32)
    np.testing.assert_allclose(ours.forward(x), to_np(tl(torch.from_numpy(x))), rtol=1e-5, atol=1e-6)
