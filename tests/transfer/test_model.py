"""TransferNet modes and discriminative learning rates (the optimizer's groups get the intended LRs)."""

from __future__ import annotations

import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.train import TrainConfig, make_optimizer
from dlcc.transfer import TransferNet, build_backbone, discriminative_groups


def _net(frozen=False):
    torch.manual_seed(0)
    return TransferNet(build_backbone("fastnet", widths=[4, 4, 8]), num_classes=3, frozen=frozen)


def test_discriminative_lrs_reach_the_optimizer():
    model = _net()
    groups = discriminative_groups(model, lr=1e-2, factor=0.5, weight_decay=0.01)
    optimizer = make_optimizer(groups, TrainConfig(optimizer="adamw", lr=123.0))
    got = {g["name"]: g["lr"] for g in optimizer.param_groups}
    assert got == pytest.approx({"head": 1e-2, "groups.2": 5e-3, "groups.1": 2.5e-3, "groups.0": 1.25e-3,
                                 "whiten": 6.25e-4})
    assert [g["name"] for g in optimizer.param_groups][0] == "head"   # the loop logs group 0's LR
    assert all(g["weight_decay"] == 0.01 for g in optimizer.param_groups)
    # every trainable parameter is in exactly one group; the frozen whitening weight in none
    ids = [id(p) for g in optimizer.param_groups for p in g["params"]]
    trainable = [id(p) for p in model.parameters() if p.requires_grad]
    assert sorted(ids) == sorted(trainable) and id(model.backbone.whiten.weight) not in ids
    head = next(g for g in optimizer.param_groups if g["name"] == "head")
    assert {id(p) for p in head["params"]} == {id(p) for p in model.head.parameters()}


def test_factor_one_is_one_lr_and_bad_factors_fail():
    groups = discriminative_groups(_net(), lr=3e-3, factor=1.0)
    assert {g["lr"] for g in groups} == {3e-3}
    with pytest.raises(ConfigError, match="must be in"):
        discriminative_groups(_net(), lr=1e-3, factor=1.5)


def test_probe_trains_only_the_head_and_keeps_batchnorm_statistics():
    model = _net(frozen=True)
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    groups = discriminative_groups(model, lr=0.1)
    assert [g["name"] for g in groups] == ["head"]
    optimizer = torch.optim.SGD(groups, lr=0.1)
    model.train()
    assert model.training and not model.backbone.training
    head_before = model.head.weight.clone()
    for _ in range(2):
        loss = torch.nn.functional.cross_entropy(model(torch.randn(8, 3, 32, 32)), torch.randint(0, 3, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, before[k]), k   # weights and BatchNorm running statistics untouched
    assert not torch.equal(model.head.weight, head_before)


def test_finetune_moves_the_backbone():
    model = _net()
    before = model.backbone.groups[0].conv1.weight.clone()
    optimizer = torch.optim.SGD(discriminative_groups(model, 0.1, 0.5), lr=0.1)
    loss = torch.nn.functional.cross_entropy(model(torch.randn(8, 3, 32, 32)), torch.randint(0, 3, (8,)))
    loss.backward()
    optimizer.step()
    assert not torch.equal(model.backbone.groups[0].conv1.weight, before)
