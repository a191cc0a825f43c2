"""The LR range test: a sane suggestion, restored weights and optimizer, a plot."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from train_helpers import loaders, same_weights, small_model, weights

from dlcc.errors import ConfigError
from dlcc.train import lr_find
from dlcc.train.lr_finder import suggest


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam"])
def test_lr_find_suggests_a_sane_lr_and_restores_everything(tmp_path, optimizer_name):
    train, _ = loaders(n=2048, batch_size=32)
    model = small_model(dropout=0.1)
    if optimizer_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # one real step so the optimizer has state (momentum / Adam moments) worth restoring
    nn.CrossEntropyLoss()(model(next(iter(train))[0]), next(iter(train))[1]).backward()
    opt.step()
    before_model, before_opt = weights(model), {k: v.clone() for k, v in opt.state[next(model.parameters())].items()}
    rng_before = torch.get_rng_state()

    result = lr_find(model, train, nn.CrossEntropyLoss(), opt, num_iter=100, device="cpu",
                     plot_path=tmp_path / "lr_find.png")

    assert 1e-4 <= result.suggestion <= 2.0, result.suggestion
    assert result.steepest_lr <= result.min_loss_lr
    assert same_weights(weights(model), before_model)
    after_opt = opt.state[next(model.parameters())]
    assert all(torch.equal(before_opt[k], after_opt[k]) for k in before_opt)
    assert opt.param_groups[0]["lr"] == (0.1 if optimizer_name == "sgd" else 1e-3)
    assert "initial_lr" not in opt.param_groups[0]
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert len(result.lrs) == len(result.losses) <= 100
    assert all(a < b for a, b in zip(result.lrs, result.lrs[1:]))          # exponential sweep
    assert result.lrs[0] == pytest.approx(1e-7)
    png = (tmp_path / "lr_find.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_the_sweep_stops_when_the_loss_explodes():
    train, _ = loaders(n=2048, batch_size=32)
    model = small_model()
    result = lr_find(model, train, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                     start_lr=1e-4, end_lr=1e4, num_iter=200, device="cpu")
    assert result.lrs[-1] < 1e4                       # stopped before the end of the range
    assert result.losses[-1] > 4 * min(result.losses) or result.notes


def test_min_over_ten_method():
    train, _ = loaders(n=1024, batch_size=32)
    model = small_model()
    result = lr_find(model, train, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                     method="min/10", device="cpu")
    assert result.suggestion == pytest.approx(result.min_loss_lr / 10)


def test_suggest_on_a_known_curve():
    lrs = [10 ** (-6 + 0.1 * i) for i in range(61)]               # 1e-6 .. 1
    # flat, then steepest fall around 1e-3 (i = 30), minimum at 1e-1 (i = 50), then up
    losses = [2.0 - 1.5 / (1 + pow(2.718, -(i - 30) / 3)) + (0.05 * (i - 50) ** 2 if i > 50 else 0)
              for i in range(61)]
    steepest, at_min = suggest(lrs, losses)
    assert steepest == pytest.approx(1e-3, rel=0.3)
    assert at_min == pytest.approx(lrs[losses.index(min(losses))])


def test_bad_lr_find_settings():
    train, _ = loaders(n=64)
    model = small_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ConfigError, match="0 < start_lr < end_lr"):
        lr_find(model, train, nn.CrossEntropyLoss(), opt, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ConfigError, match="num_iter=3"):
        lr_find(model, train, nn.CrossEntropyLoss(), opt, num_iter=3)
