"""Parity of RNN/LSTM/GRU with torch.nn (float64): outputs, final states, input and state
gradients and every weight gradient, for odd shapes (batch 1, length 1, 2 layers, batch_first,
unbatched input)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.recurrent import GRU, LSTM, RNN

TOL = 1e-6


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def make_pair(kind: str, input_size, hidden_size, num_layers, batch_first, bias=True, seed=0):
    torch.manual_seed(seed)
    common = dict(num_layers=num_layers, batch_first=batch_first, bias=bias)
    if kind in ("rnn_tanh", "rnn_relu"):
        act = kind.split("_")[1]
        ref = torch.nn.RNN(input_size, hidden_size, nonlinearity=act, **common)
        ours = RNN(input_size, hidden_size, nonlinearity=act, dtype=np.float64, **common)
    elif kind == "lstm":
        ref = torch.nn.LSTM(input_size, hidden_size, **common)
        ours = LSTM(input_size, hidden_size, dtype=np.float64, **common)
    else:
        ref = torch.nn.GRU(input_size, hidden_size, **common)
        ours = GRU(input_size, hidden_size, dtype=np.float64, **common)
    ref = ref.double()
    ours.load_state_dict(ref.state_dict())
    return ours, ref


KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
# (T, B, I, H, layers, batch_first, with_state)
SHAPES = [
    (5, 3, 4, 6, 1, False, False),
    (1, 1, 3, 2, 1, False, True),      # sequence length 1, batch 1
    (7, 1, 2, 5, 2, True, True),       # batch 1, 2 layers, batch_first
    (1, 4, 3, 3, 2, False, False),     # sequence length 1, 2 layers
    (4, 2, 5, 3, 2, True, False),
    (6, None, 3, 4, 2, False, True),   # unbatched (T, I) input
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}-B{}-I{}-H{}-L{}-bf{}-h0{}".format(*s))
def test_parity_with_torch(kind, shape):
    steps, batch, isz, hsz, layers, batch_first, with_state = shape
    ours, ref = make_pair(kind, isz, hsz, layers, batch_first, seed=steps + layers)
    rng = np.random.default_rng(1)
    if batch is None:
        x = rng.normal(size=(steps, isz))
        state_shape = (layers, hsz)
    else:
        x = rng.normal(size=(batch, steps, isz) if batch_first else (steps, batch, isz))
        state_shape = (layers, batch, hsz)
    is_lstm = kind == "lstm"
    h0 = rng.normal(size=state_shape)
    c0 = rng.normal(size=state_shape)

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    c0t = torch.tensor(c0, requires_grad=True)
    if with_state:
        hx_t = (h0t, c0t) if is_lstm else h0t
        out_t, state_t = ref(xt, hx_t)
        out, state = ours.forward(x, (h0, c0) if is_lstm else h0)
    else:
        out_t, state_t = ref(xt)
        out, state = ours.forward(x)

    d_out = rng.normal(size=out.shape)
    d_h = rng.normal(size=state_shape)
    d_c = rng.normal(size=state_shape)
    loss = (out_t * torch.tensor(d_out)).sum()
    if is_lstm:
        loss = loss + (state_t[0] * torch.tensor(d_h)).sum() + (state_t[1] * torch.tensor(d_c)).sum()
    else:
        loss = loss + (state_t * torch.tensor(d_h)).sum()
    loss.backward()

    assert rel_err(out, out_t.detach().numpy()) <= TOL
    if is_lstm:
        assert rel_err(state[0], state_t[0].detach().numpy()) <= TOL
        assert rel_err(state[1], state_t[1].detach().numpy()) <= TOL
        grads = ours.backward(d_out, (d_h, d_c))
    else:
        assert rel_err(state, state_t.detach().numpy()) <= TOL
        grads = ours.backward(d_out, d_h)

    if with_state:
        dx, d_state = grads
        if is_lstm:
            assert rel_err(d_state[0], h0t.grad.numpy()) <= TOL
            assert rel_err(d_state[1], c0t.grad.numpy()) <= TOL
        else:
            assert rel_err(d_state, h0t.grad.numpy()) <= TOL
    else:
        dx = grads
    assert rel_err(dx, xt.grad.numpy()) <= TOL
    ref_params = dict(ref.named_parameters())
    assert set(ours.grads) == set(ref_params)
    for name, p in ref_params.items():
        assert rel_err(ours.grads[name], p.grad.numpy()) <= TOL, name


@pytest.mark.parametrize("kind", KINDS)
def test_no_bias_and_only_output_grad(kind):
    ours, ref = make_pair(kind, 3, 4, 2, False, bias=False)
    assert not any(k.startswith("bias") for k in ours.params)
    x = np.random.default_rng(0).normal(size=(4, 2, 3))
    xt = torch.tensor(x, requires_grad=True)
    out_t, _ = ref(xt)
    out, _ = ours.forward(x)
    d_out = np.random.default_rng(2).normal(size=out.shape)
    (out_t * torch.tensor(d_out)).sum().backward()
    dx = ours.backward(d_out)
    assert rel_err(out, out_t.detach().numpy()) <= TOL
    assert rel_err(dx, xt.grad.numpy()) <= TOL
    for name, p in ref.named_parameters():
        assert rel_err(ours.grads[name], p.grad.numpy()) <= TOL


def test_parameter_names_layouts_and_init_match_torch():
    for ours, ref in [(LSTM(3, 5, num_layers=2), torch.nn.LSTM(3, 5, num_layers=2)),
                      (GRU(3, 5), torch.nn.GRU(3, 5)), (RNN(3, 5), torch.nn.RNN(3, 5))]:
        names = [n for n, _, _ in ours.named_parameters()]
        assert names == list(ref.state_dict())
        for name, tensor in ref.state_dict().items():
            assert ours.params[name].shape == tuple(tensor.shape)
            assert ours.params[name].dtype == np.float32
            assert np.abs(ours.params[name]).max() <= 1 / np.sqrt(5)


def test_dropout_between_layers_is_off_in_eval_mode_and_active_in_training():
    ours, ref = make_pair("lstm", 3, 4, 2, False)
    ours.dropout = 0.5
    ref.dropout = 0.5
    x = np.random.default_rng(0).normal(size=(3, 2, 3))
    ours.eval()
    ref.eval()
    out, _ = ours.forward(x)
    assert rel_err(out, ref(torch.tensor(x))[0].detach().numpy()) <= TOL
    ours.train()
    out_train, _ = ours.forward(x)
    assert not np.allclose(out_train, out)
    dx = ours.backward(np.ones_like(out_train))
    assert dx.shape == x.shape and np.isfinite(dx).all()


def test_float32_input_runs_in_parameter_dtype():
    rnn = GRU(3, 4, rng=np.random.default_rng(0))
    out, h = rnn.forward(np.ones((2, 1, 3)))
    assert out.dtype == np.float32 and h.shape == (1, 1, 4)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((4, 2, 5)), r"GRU\(input_size=3, hidden_size=4\): input has shape \(4, 2, 5\), expected last dimension 3"),
    (np.zeros((4,)), r"\(1-D\), expected 2 or 3-D"),
    (np.zeros((4, 2, 3), dtype=np.int64), r"dtype int64"),
    (np.full((4, 2, 3), np.nan), r"contains 24 NaN/inf"),
    (np.zeros((0, 2, 3)), r"sequence length and batch size must be at least 1"),
])
def test_bad_inputs_raise_input_error(bad, match):
    with pytest.raises(InputError, match=match):
        GRU(3, 4).forward(bad)


def test_bad_states_and_backward_misuse():
    lstm = LSTM(3, 4, num_layers=2)
    x = np.zeros((5, 2, 3))
    with pytest.raises(InputError, match=r"h0 has shape \(1, 2, 4\), expected \(2, 2, 4\)"):
        lstm.forward(x, (np.zeros((1, 2, 4)), np.zeros((2, 2, 4))))
    with pytest.raises(InputError, match=r"tuple \(h0, c0\)"):
        lstm.forward(x, np.zeros((2, 2, 4)))
    with pytest.raises(InputError, match="backward called before forward"):
        LSTM(3, 4).backward(np.zeros((5, 2, 4)))
    out, _ = lstm.forward(x)
    with pytest.raises(InputError, match=r"d_output has shape \(5, 2, 3\), expected \(5, 2, 4\)"):
        lstm.backward(np.zeros((5, 2, 3)))
    with pytest.raises(ConfigError, match="nonlinearity"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ConfigError, match="hidden_size"):
        GRU(3, 0)
