"""A SimCLR step through the training loop's custom-step mode (task: training)."""

from __future__ import annotations

import torch
from torch import nn

from dlcc.contrastive import SimCLRAugment, SimCLRModel, SimCLRStep, TwoViews
from dlcc.train import TensorBatches, fit, make_loader


class TinyEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out_features = 8

    def forward(self, x):
        return self.net(x)


def test_loop_trains_the_encoder_without_labels():
    torch.manual_seed(0)
    model = SimCLRModel(TinyEncoder(), hidden=16, out_features=8)
    before = model.encoder.net[0].weight.detach().clone()
    images = torch.randint(0, 256, (32, 3, 16, 16), dtype=torch.uint8)
    step = SimCLRStep(model, TwoViews(SimCLRAugment()), torch.optim.Adam(model.parameters(), 1e-2), 0.5,
                      channels_last=True)
    trainer = fit(model, make_loader(TensorBatches(images), 8, shuffle=True), None, None, None, steps=6,
                  eval_every=3, metrics={}, progress=False, step=step, device="cpu")
    assert trainer.global_step == 6
    losses = [row["train_loss"] for row in trainer.history]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert not torch.equal(before, model.encoder.net[0].weight)
    assert model(torch.rand(2, 3, 16, 16)).shape == (2, 8)
