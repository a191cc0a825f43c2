"""Prototypical networks: prototypes, distances and the loss against a hand computation."""

from __future__ import annotations

import math

import torch
from torch import nn

from dlcc.fewshot import Episode, ProtoNetStep, protonet_logits, protonet_loss, prototypes, squared_distances
from dlcc.train import TrainConfig


def test_prototypes_are_class_means():
    z = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 6.0]])
    assert torch.equal(prototypes(z, torch.tensor([0, 0, 1, 1]), 2), torch.tensor([[1.0, 0.0], [0.0, 5.0]]))


def test_squared_distances():
    d = squared_distances(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0], [4.0, 5.0]]))
    assert torch.equal(d, torch.tensor([[1.0, 25.0]]))


def test_loss_matches_a_hand_computation():
    # identity embedding of 2-D points: prototypes (1, 0) and (0, 5) as above
    support = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 6.0]])
    query = torch.tensor([[1.0, 1.0], [0.0, 3.0]])
    ep = Episode(support, torch.tensor([0, 0, 1, 1]), query, torch.tensor([0, 1]), torch.tensor([7, 9]))
    # query 1: distances 1 and 17 (class 0 true); query 2: distances 10 and 4 (class 1 true)
    hand = (-math.log(math.exp(-1) / (math.exp(-1) + math.exp(-17)))
            - math.log(math.exp(-4) / (math.exp(-10) + math.exp(-4)))) / 2
    loss, acc = protonet_loss(nn.Identity(), ep)
    assert abs(loss.item() - hand) < 1e-6 and acc.item() == 1.0
    assert torch.allclose(protonet_logits(nn.Identity(), ep), -torch.tensor([[1.0, 17.0], [10.0, 4.0]]))


class _Trainer:
    device = torch.device("cpu")


def test_training_step_lowers_the_episode_loss():
    torch.manual_seed(0)
    centres = torch.randn(3, 8) * 3
    x = centres.repeat_interleave(10, 0) + torch.randn(30, 8)
    y = torch.arange(3).repeat_interleave(10)
    ep = Episode(x[::2], y[::2], x[1::2], y[1::2], torch.arange(3))
    encoder = nn.Linear(8, 4)
    step = ProtoNetStep(encoder, TrainConfig(lr=1e-2, optimizer="adam"))
    before = protonet_loss(encoder, ep)[0].item()
    for _ in range(30):
        step(_Trainer(), [ep])
    assert protonet_loss(encoder, ep)[0].item() < before * 0.5
