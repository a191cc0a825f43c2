"""Sequence models: shapes, GPT init and weight tying, causality, parity with hand-written attention."""

import math

import pytest
import torch
import torch.nn.functional as F

from dlcc.errors import ConfigError, InputError
from dlcc.models.rnn import CharRNN, RNNTagger
from dlcc.models.tcn import TCN
from dlcc.models.transformer import GPT, ECGDetector, SelfAttention, decay_groups


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("embed_dim", [None, 8])
def test_char_rnn_shapes_and_hidden(cell, embed_dim):
    model = CharRNN(vocab_size=11, hidden=16, layers=2, cell=cell, dropout=0.0, embed_dim=embed_dim)
    x = torch.randint(11, (3, 7))
    logits, hidden = model(x)
    assert logits.shape == (3, 7, 11) and logits.dtype == torch.float32
    h = hidden[0] if cell == "lstm" else hidden
    assert h.shape == (2, 3, 16)
    zeros = model.init_hidden(3)
    assert (type(zeros) is tuple) == (cell == "lstm")
    torch.testing.assert_close(model(x, zeros)[0], logits)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_char_rnn_carried_state_equals_one_long_pass(cell):
    torch.manual_seed(0)
    model = CharRNN(13, hidden=12, layers=2, cell=cell, dropout=0.0)
    x = torch.randint(13, (2, 10))
    full, _ = model(x)
    first, h = model(x[:, :4])
    second, _ = model(x[:, 4:], h)
    torch.testing.assert_close(torch.cat([first, second], 1), full)


def test_char_rnn_course_parameter_count():
    # the course's char_rnn_lstm(n_hidden=512, n_layers=3) on a one-hot vocabulary of 83
    model = CharRNN(83, hidden=512, layers=3, cell="lstm", dropout=0.5)
    lstm = 4 * (512 * (83 + 512) + 2 * 512) + 2 * 4 * (512 * (512 + 512) + 2 * 512)
    assert sum(p.numel() for p in model.parameters()) == lstm + 512 * 83 + 83


def test_unknown_cell_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown recurrent cell 'lstmm'"):
        CharRNN(5, cell="lstmm")


@pytest.mark.parametrize("patch,T", [(1, 20), (4, 20), (3, 20)])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_rnn_tagger_shapes(patch, T, bidirectional):
    model = RNNTagger(in_channels=2, hidden=8, layers=2, cell="gru", bidirectional=bidirectional, patch=patch)
    assert model(torch.randn(3, T, 2)).shape == (3, T)
    with pytest.raises(InputError, match=r"\[B, T, 2\]"):
        model(torch.randn(3, 2, T))


def test_unidirectional_rnn_tagger_is_causal():
    torch.manual_seed(0)
    model = RNNTagger(2, hidden=8, layers=1, bidirectional=False).eval()
    x = torch.randn(1, 30, 2)
    y = x.clone()
    y[:, 20:] += 5.0
    torch.testing.assert_close(model(x)[:, :20], model(y)[:, :20])


def test_gpt_shapes_tying_and_init():
    torch.manual_seed(0)
    model = GPT(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128)
    assert model(torch.randint(65, (2, 64))).shape == (2, 64, 65)
    assert model.lm_head.weight is model.tok_emb.weight
    # nanoGPT's CPU configuration with 65 characters: 0.80 M parameters (tied matrix once)
    per_block = 4 * (128 * 128 + 128) + (128 * 512 + 512) + (512 * 128 + 128) + 2 * 2 * 128
    assert model.num_params() == 65 * 128 + 64 * 128 + 4 * per_block + 2 * 128
    weights = torch.cat([p.detach().flatten() for n, p in model.named_parameters() if n.endswith("weight")
                         and "ln" not in n])
    assert abs(weights.std().item() - 0.02) < 0.001 and abs(weights.mean().item()) < 0.001
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            assert torch.count_nonzero(p) == 0, name
        if "ln" in name and name.endswith("weight"):
            assert torch.all(p == 1), name


def test_gpt_tied_weight_gets_both_gradients():
    model = GPT(7, 8, n_layer=1, n_head=1, n_embd=8)
    model(torch.randint(7, (1, 8))).sum().backward()
    assert model.tok_emb.weight.grad is model.lm_head.weight.grad


def test_gpt_is_causal():
    torch.manual_seed(0)
    model = GPT(10, 16, n_layer=2, n_head=2, n_embd=16).eval()
    x = torch.randint(10, (1, 16))
    y = x.clone()
    y[0, 9:] = (y[0, 9:] + 3) % 10
    a, b = model(x), model(y)
    torch.testing.assert_close(a[:, :9], b[:, :9])
    assert not torch.allclose(a[:, 9:], b[:, 9:])


def test_gpt_rejects_too_long_context():
    with pytest.raises(InputError, match="exceeds the model's block_size 8"):
        GPT(5, 8, 1, 1, 8)(torch.zeros(1, 9, dtype=torch.long))


def test_self_attention_matches_hand_written_softmax_attention():
    torch.manual_seed(0)
    attn = SelfAttention(n_embd=12, n_head=3, causal=True).eval()
    x = torch.randn(2, 5, 12)
    q = attn.query(x).view(2, 5, 3, 4).transpose(1, 2)
    k = attn.key(x).view(2, 5, 3, 4).transpose(1, 2)
    v = attn.value(x).view(2, 5, 3, 4).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(4)
    scores = scores.masked_fill(torch.triu(torch.ones(5, 5, dtype=torch.bool), 1), float("-inf"))
    y = (F.softmax(scores, -1) @ v).transpose(1, 2).reshape(2, 5, 12)
    torch.testing.assert_close(attn(x), attn.proj(y))


def test_attention_width_must_split_into_heads():
    with pytest.raises(ConfigError, match="not divisible by n_head=3"):
        SelfAttention(10, 3)


@pytest.mark.parametrize("patch,T", [(1, 64), (8, 64), (8, 61)])
def test_ecg_detector_shapes(patch, T):
    model = ECGDetector(in_channels=2, max_len=64, n_layer=2, n_head=2, n_embd=16, patch=patch)
    assert model(torch.randn(3, T, 2)).shape == (3, T)


def test_ecg_detector_course_defaults_parameter_count():
    # the course's ECGDetector(4 leads, seq 1024, 8 layers, 8 heads, 256) had 6,582,272 parameters
    assert sum(p.numel() for p in ECGDetector(4, 1024, 8, 8, 256).parameters()) == 6_582_272


def test_ecg_detector_bad_input():
    model = ECGDetector(2, max_len=32, n_layer=1, n_head=1, n_embd=8)
    with pytest.raises(InputError, match="exceeds the model's max_len 32"):
        model(torch.randn(1, 33, 2))
    with pytest.raises(InputError, match="leads last"):
        model(torch.randn(1, 2, 32))


def test_causal_ecg_detector_output_ignores_the_future():
    torch.manual_seed(0)
    model = ECGDetector(2, 40, n_layer=2, n_head=2, n_embd=16, dropout=0.0, causal=True, patch=4).eval()
    x = torch.randn(1, 40, 2)
    y = x.clone()
    y[:, 24:] = torch.randn(1, 16, 2)
    torch.testing.assert_close(model(x)[:, :24], model(y)[:, :24])
    assert not torch.allclose(model(x)[:, 24:], model(y)[:, 24:])


def test_tcn_is_causal_with_the_stated_receptive_field():
    torch.manual_seed(0)
    model = TCN(in_channels=2, channels=8, levels=3, kernel_size=3).eval()
    assert model.receptive_field == 1 + 2 * 2 * 7
    x = torch.randn(1, 100, 2)
    base = model(x)
    assert base.shape == (1, 100)
    future = x.clone()
    future[:, 60:] += 3.0
    torch.testing.assert_close(model(future)[:, :60], base[:, :60])
    past = x.clone()
    past[:, 60 - model.receptive_field] += 3.0    # just outside the window of output 60
    torch.testing.assert_close(model(past)[:, 60:], base[:, 60:])
    past[:, 60 - model.receptive_field + 1] += 3.0  # just inside
    assert not torch.allclose(model(past)[:, 60], base[:, 60])


def test_non_causal_tcn_sees_the_future():
    torch.manual_seed(0)
    model = TCN(2, channels=4, levels=2, causal=False).eval()
    x = torch.randn(1, 50, 2)
    y = x.clone()
    y[:, 30] += 3.0
    assert not torch.allclose(model(x)[:, 28], model(y)[:, 28])


def test_decay_groups_split_matrices_from_vectors():
    model = GPT(9, 8, 1, 1, 8)
    decay, no_decay = decay_groups(model, 0.1)
    assert all(p.dim() >= 2 for p in decay["params"]) and all(p.dim() < 2 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
