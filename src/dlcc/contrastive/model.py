"""The network SimCLR trains: an encoder (kept) and a projection head (thrown away).

The loss is computed on the head's output z = g(h), but the *encoder's* features h are what
transfer (SimCLR, section 4.2): the head absorbs the invariances the loss forces (to colour,
to crop), so h keeps more of what downstream tasks need.
"""

from __future__ import annotations

from torch import Tensor, nn


class ProjectionHead(nn.Module):
    """MLP `[B, in_features] -> [B, out_features]`: Linear -> BatchNorm -> ReLU -> Linear."""

    def __init__(self, in_features: int, hidden: int = 512, out_features: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden, bias=False), nn.BatchNorm1d(hidden),
                                 nn.ReLU(inplace=True), nn.Linear(hidden, out_features))

    def forward(self, h: Tensor) -> Tensor:
        return self.net(h)


class SimCLRModel(nn.Module):
    """`encoder` (images -> `[B, F]`; it must have `out_features`, or pass `features`) followed
    by a `ProjectionHead`. `model(x)` gives the projections z; `model.encoder(x)` the features h.
    """

    def __init__(self, encoder: nn.Module, hidden: int = 512, out_features: int = 128,
                 features: int | None = None):
        super().__init__()
        self.encoder = encoder
        features = features if features is not None else encoder.out_features
        self.head = ProjectionHead(features, hidden, out_features)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x))
