"""Prototypical networks (Snell, Swersky & Zemel 2017).

Embed the support set, average each class's embeddings into a *prototype*, and classify a
query by how close it lies to each prototype:

    c_k     = mean of f(x) over the support examples of class k        prototypes  [N, D]
    d(q, k) = ||f(q) - c_k||^2                                         distances   [Q, N]
    p(k|q)  = softmax_k(-d(q, k))                                      loss: cross-entropy

Squared Euclidean distance makes this a linear classifier on f(q) (the ||f(q)||^2 term is the
same for every class), which is why the paper prefers it to cosine distance. Nothing is
adapted at test time: a new task only needs new prototypes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.fewshot.episodes import Episode
from dlcc.train.config import TrainConfig
from dlcc.train.optim import make_optimizer


def prototypes(embeddings: Tensor, labels: Tensor, ways: int) -> Tensor:
    """Class means: `embeddings [S, D]`, `labels [S]` in 0..ways-1 -> `[ways, D]`."""
    sums = torch.zeros(ways, embeddings.shape[1], dtype=embeddings.dtype, device=embeddings.device)
    sums.index_add_(0, labels, embeddings)
    counts = torch.bincount(labels, minlength=ways).clamp_min(1).to(embeddings.dtype)
    return sums / counts[:, None]


def squared_distances(queries: Tensor, centres: Tensor) -> Tensor:
    """`queries [Q, D]`, `centres [N, D]` -> `[Q, N]` squared Euclidean distances.

    Computed as a difference, not as |q|^2 - 2 q.c + |c|^2, which can go slightly negative.
    """
    return (queries[:, None, :] - centres[None, :, :]).pow(2).sum(-1)


def protonet_logits(encoder: nn.Module, episode: Episode) -> Tensor:
    """Logits `[N*Q, N]` (= minus the squared distances) of the episode's queries."""
    ways = episode.ways
    # one forward pass for support and queries: BatchNorm sees the whole episode
    z = encoder(torch.cat([episode.support_x, episode.query_x]))
    support, query = z[: len(episode.support_y)], z[len(episode.support_y):]
    return -squared_distances(query, prototypes(support, episode.support_y, ways))


def protonet_loss(encoder: nn.Module, episode: Episode) -> tuple[Tensor, Tensor]:
    """(mean cross-entropy over the queries, their accuracy) for one episode."""
    logits = protonet_logits(encoder, episode)
    loss = F.cross_entropy(logits, episode.query_y)
    return loss, (logits.argmax(1) == episode.query_y).float().mean()


@torch.no_grad()
def protonet_predict(encoder: nn.Module, episode: Episode) -> Tensor:
    """Predicted classes `[N*Q]` of the episode's queries (encoder in eval mode)."""
    return protonet_logits(encoder, episode).argmax(1)


class ProtoNetStep:
    """The run helper's training step (`Task(step=ProtoNetStep(...))`): each batch is a list of
    episodes; the step averages their losses and takes one optimizer step."""

    def __init__(self, encoder: nn.Module, train: TrainConfig):
        self.encoder = encoder
        self.optimizers = {"encoder": make_optimizer(encoder.parameters(), train)}

    def __call__(self, trainer, episodes: list[Episode]) -> dict[str, Tensor]:
        opt = self.optimizers["encoder"]
        loss = torch.stack([protonet_loss(self.encoder, ep.to(trainer.device))[0] for ep in episodes]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.detach()}
