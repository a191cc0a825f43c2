"""The pre-LN transformer block against torch.nn.TransformerEncoderLayer(norm_first=True,
activation="gelu") with the same weights (float64, 1e-6, every mask kind), its gradcheck, the
sinusoidal and learned positional encodings, and the attention-map figure."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcc.errors import InputError
from dlcc.scratch import (LearnedPositionalEncoding, SinusoidalPositionalEncoding,
                          TransformerBlock)
from dlcc.scratch.figures import plot_attention_maps
from dlcc.scratch.gradcheck import gradcheck
from dlcc.scratch.layers.positions import sinusoidal_table

TOL = 1e-6


def max_err(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def block_pair(e=9, h=3, ff=13, batch_first=True, activation="gelu", seed=0):
    torch.manual_seed(seed)
    ref = torch.nn.TransformerEncoderLayer(e, h, ff, dropout=0.0, activation=activation,
                                           batch_first=batch_first, norm_first=True, dtype=torch.float64)
    with torch.no_grad():
        for p in ref.parameters():      # LayerNorm starts at 1 / 0: move every parameter off it
            p.add_(0.3 * torch.randn_like(p))
    ours = TransformerBlock(e, h, ff, activation=activation, batch_first=batch_first, dtype=np.float64)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


@pytest.mark.parametrize("kind", ["none", "padding", "causal", "both"])
def test_block_matches_torch(kind):
    b, n, e = 3, 7, 9
    rng = np.random.default_rng(1)
    ours, ref = block_pair()
    x = rng.standard_normal((b, n, e))
    kpm = None
    if kind in ("padding", "both"):
        kpm = np.zeros((b, n), bool)
        kpm[0, 5:] = True
        kpm[2, 3:] = True
    causal = kind in ("causal", "both")
    am = ~np.tril(np.ones((n, n), bool)) if causal else None
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt, src_mask=None if am is None else torch.tensor(am),
             src_key_padding_mask=None if kpm is None else torch.tensor(kpm))
    y = ours.forward(x, kpm, None, causal)
    dy = rng.standard_normal(y.shape)
    yt.backward(torch.tensor(dy))
    dx = ours.backward(dy)
    errors = {"output": max_err(y, yt.detach().numpy()), "dx": max_err(dx, xt.grad.numpy())}
    grads = {name: m.grads[k] for name, m, k in ours.named_parameters()}
    assert set(grads) == {name for name, _ in ref.named_parameters()}
    for name, p in ref.named_parameters():
        errors[name] = max_err(grads[name], p.grad.numpy())
    assert max(errors.values()) <= TOL, {k: v for k, v in errors.items() if v > TOL}


def test_block_seq_first_relu_matches_torch():
    rng = np.random.default_rng(2)
    ours, ref = block_pair(e=6, h=2, ff=5, batch_first=False, activation="relu")
    x = rng.standard_normal((5, 2, 6))
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    y = ours.forward(x)
    dy = rng.standard_normal(y.shape)
    yt.backward(torch.tensor(dy))
    assert max_err(y, yt.detach().numpy()) <= TOL
    assert max_err(ours.backward(dy), xt.grad.numpy()) <= TOL


def test_block_gradcheck_with_causal_and_padding_masks():
    rng = np.random.default_rng(3)
    block = TransformerBlock(6, 2, 8, batch_first=True, rng=0, dtype=np.float64)
    for _, m, k in block.named_parameters():
        m.params[k][...] += 0.3 * rng.standard_normal(m.params[k].shape)
    x = rng.standard_normal((2, 5, 6))
    kpm = np.array([[False] * 5, [False, False, False, True, True]])
    report = gradcheck(block, (x, kpm, None, True), max_entries=40)
    assert report.ok, str(report)


def test_block_keeps_the_residual_path():
    """With zero output projections both sub-layers add nothing: y = x and dx = dy."""
    block = TransformerBlock(4, 2, 6, batch_first=True, rng=1, dtype=np.float64)
    for layer in (block.self_attn.out_proj, block.linear2):
        for k in layer.params:
            layer.params[k][...] = 0
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    np.testing.assert_allclose(block.forward(x), x)
    dy = np.ones_like(x)
    np.testing.assert_allclose(block.backward(dy), dy)


def test_sinusoidal_table_known_values_and_odd_width():
    table = sinusoidal_table(50, 7)
    assert table.shape == (50, 7)
    np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0, 1, 0])
    np.testing.assert_allclose(table[3, 0], np.sin(3.0))
    np.testing.assert_allclose(table[3, 3], np.cos(3 / 10000 ** (2 / 7)))
    # relative offsets are rotations: each (sin, cos) pair keeps its norm at every position
    np.testing.assert_allclose(table[:, 0] ** 2 + table[:, 1] ** 2, 1.0)


def test_sinusoidal_encoding_adds_the_table_and_passes_gradients():
    layer = SinusoidalPositionalEncoding(10, 4, dtype=np.float64)
    x = np.random.default_rng(5).standard_normal((2, 6, 4))
    np.testing.assert_allclose(layer.forward(x) - x, np.broadcast_to(sinusoidal_table(10, 4)[:6], x.shape))
    dy = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(dy), dy)
    assert layer.num_parameters() == 0


def test_learned_encoding_gradcheck_and_torch_like_parameter():
    rng = np.random.default_rng(6)
    layer = LearnedPositionalEncoding(8, 3, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 5, 3))
    gradcheck(layer, (x,))
    layer.forward(x)
    layer.backward(np.ones_like(x))
    np.testing.assert_allclose(layer.grads["weight"][:5], 2.0)   # two sequences add up
    np.testing.assert_allclose(layer.grads["weight"][5:], 0.0)   # unused positions get nothing


def test_positions_longer_than_max_len_are_a_clear_error():
    with pytest.raises(InputError, match="longer than max_len 4"):
        LearnedPositionalEncoding(4, 3).forward(np.zeros((1, 5, 3), np.float32))
    with pytest.raises(InputError, match="longer than max_len 4"):
        SinusoidalPositionalEncoding(4, 3).forward(np.zeros((5, 3), np.float32))


def test_attention_map_figure(tmp_path):
    block = TransformerBlock(6, 3, 8, batch_first=True, rng=0, dtype=np.float64)
    block.forward(np.random.default_rng(7).standard_normal((2, 5, 6)), None, None, True)
    path = plot_attention_maps(block.self_attn.attn_weights, tmp_path / "maps" / "attn.png",
                               queries=list("hello"), keys=list("hello"), sample=1)
    assert path.is_file() and path.read_bytes()[:4] == b"\x89PNG"
    w = block.self_attn.attn_weights
    assert np.all(w[:, :, 0, 1:] == 0), "a causal map is lower triangular"
    with pytest.raises(InputError, match="expected"):
        plot_attention_maps(np.ones((3, 3)), tmp_path / "x.png")
    with pytest.raises(InputError, match="labels"):
        plot_attention_maps(w, tmp_path / "x.png", queries=["a"])
