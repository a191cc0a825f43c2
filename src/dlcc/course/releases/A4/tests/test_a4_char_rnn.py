"""Public tests for rnn.py (the char-RNN models) and the text reading in a4_char_rnn.py.

Run them with `dlcc course test A4`. The grader runs more (hidden) tests on every task.
"""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_keys, assert_shape

V, H, LAYERS = 10, 16, 2


def one_hot(ids, n=V):
    return np.eye(n, dtype=np.float32)[ids]


def reference_forward(kind, state, x, hidden):
    """What a torch nn.LSTM/nn.GRU -> Linear with your weights computes (eval mode)."""
    import torch

    rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(V, H, LAYERS, batch_first=True)
    fc = torch.nn.Linear(H, V)
    rnn.load_state_dict({k[4:]: torch.as_tensor(v) for k, v in state.items() if k.startswith("rnn.")})
    fc.load_state_dict({k[3:]: torch.as_tensor(v) for k, v in state.items() if k.startswith("fc.")})
    h = tuple(map(torch.as_tensor, hidden)) if kind == "lstm" else torch.as_tensor(hidden)
    with torch.no_grad():
        out, h = rnn(torch.as_tensor(x), h)
        return fc(out).reshape(-1, V).numpy(), h


def check_model(student, kind, cls):
    check = student.module("checking")
    model = getattr(student.module("rnn"), cls)(tuple("abcdefghij"), H, LAYERS, 0.3)
    config = check.rnn_config(model)
    assert config["type"] == ("LSTM" if kind == "lstm" else "GRU"), f"model.rnn is a {config['type']}"
    expected = {"input_size": V, "hidden_size": H, "num_layers": LAYERS, "batch_first": True,
                "fc": [H, V], "dropout_layer": 0.3}
    for key, value in expected.items():
        assert config[key] == value, f"model.rnn / fc / dropout: {key} is {config[key]!r}, expected {value!r}"
    assert_close(config["dropout"], 0.3, name="dropout between the recurrent layers")
    gates = 4 if kind == "lstm" else 3
    count = gates * H * (V + H) + gates * H * (2 * H) + 2 * LAYERS * gates * H + H * V + V
    assert check.num_parameters(model) == count, \
        f"{cls}(10 characters, 16, 2) has {check.num_parameters(model)} parameters, expected {count}"
    rng = np.random.default_rng(1)
    x = one_hot(rng.integers(0, V, size=(3, 5)))
    hidden = check.init_hidden(model, 3)
    if kind == "lstm":
        hidden = tuple(rng.normal(size=np.shape(h)).astype(np.float32) for h in hidden)
    else:
        hidden = rng.normal(size=np.shape(hidden)).astype(np.float32)
    out, new_hidden = check.char_forward(model, x, hidden)
    assert_shape(out, (15, V), name="out (one row per character: [B*T, n_tokens])")
    state = check.state_dict(model)
    assert_keys(state, ["fc.weight", "fc.bias", "rnn.weight_ih_l0"], name="the model's state_dict (layer names)")
    ref_out, ref_hidden = reference_forward(kind, state, x, hidden)
    assert_close(out, ref_out, rtol=1e-4, atol=1e-5, name="out in eval mode")
    if kind == "lstm":
        assert_close(new_hidden[0], ref_hidden[0].numpy(), rtol=1e-4, atol=1e-5, name="new h")
        assert_close(new_hidden[1], ref_hidden[1].numpy(), rtol=1e-4, atol=1e-5, name="new c")
    else:
        assert_close(new_hidden, ref_hidden.numpy(), rtol=1e-4, atol=1e-5, name="new h")


@pytest.mark.task("A4.1")
def test_char_lstm_layers_and_forward(student):
    check_model(student, "lstm", "CharLSTM")


@pytest.mark.task("A4.2")
def test_char_gru_layers_and_forward(student):
    check_model(student, "gru", "CharGRU")


@pytest.mark.task("A4.3")
def test_read_text_joins_files_in_order(student):
    paths = student.module("checking").write_text_files(["Hello, ", "world\n", "!"])
    text = student.module("a4_char_rnn").read_text(paths)
    assert text == "Hello, world\n!", f"read_text gave {text!r}, expected 'Hello, world\\n!'"


@pytest.mark.task("A4.3")
def test_encode_text_sorted_vocabulary(student):
    chars, encoded = student.module("a4_char_rnn").encode_text("hello")
    assert tuple(chars) == ("e", "h", "l", "o"), f"vocabulary {chars!r}; expected the sorted characters"
    assert_close(encoded, [1, 0, 2, 2, 3], name="encoded 'hello'")
    assert np.asarray(encoded).dtype == np.int64, f"encoded should be int64, got {np.asarray(encoded).dtype}"
