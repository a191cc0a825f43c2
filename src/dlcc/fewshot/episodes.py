"""N-way K-shot episodes: the unit of data in meta-learning.

An episode is a small classification problem made from a labelled pool restricted to a set
of classes: draw `ways` of the classes, then for each `shots + queries` distinct examples; the
first `shots` of each class form the *support* set (what the learner may adapt to) and the
rest the *query* set (what it is scored on). Labels are re-numbered 0..ways-1 in the order the
classes were drawn, so a model can never rely on a class's global identity.

    sampler = EpisodeSampler(x, y, classes=[5, 6, 7, 8, 9], ways=5, shots=5, queries=15, seed=0)
    ep = sampler.sample()          # Episode(support_x [25, C, H, W], support_y [25], query_x [75, ...], ...)
    for ep in sampler.take(1000):  # a fixed, reproducible stream of 1,000 test episodes
        ...
    TaskBatches(sampler, 4)        # an endless loader of lists of 4 episodes, for the training loop

Examples are laid out class by class: `support_y == arange(ways).repeat_interleave(shots)`
and likewise for the query set. A request the pool cannot satisfy (more ways than classes,
more shots + queries than a class has examples) is refused up front with a `ConfigError`
that names the numbers and the setting to change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

import torch
from torch import Tensor

from dlcc.errors import ConfigError


@dataclass
class Episode:
    """One N-way K-shot task (N = ways, K = shots, Q = queries per class).

    support_x: [N*K, ...] inputs, support_y: [N*K] int64 in 0..N-1 (class by class);
    query_x: [N*Q, ...], query_y: [N*Q]; classes: [N] the original labels behind 0..N-1.
    """

    support_x: Tensor
    support_y: Tensor
    query_x: Tensor
    query_y: Tensor
    classes: Tensor

    @property
    def ways(self) -> int:
        return len(self.classes)

    def to(self, device) -> "Episode":
        return Episode(*(getattr(self, f.name).to(device) for f in fields(self)))


class EpisodeSampler:
    """Draws episodes from `(x, y)` restricted to `classes`, from its own seeded generator.

    Args:
        x: [M, ...] examples (any dtype; `transform` may convert them per episode).
        y: [M] integer labels.
        classes: the labels episodes may use (e.g. meta-training digits 0-4).
        ways, shots, queries: N, K and Q above.
        seed: seeds `self.generator` (the training loop saves and restores it on resume).
        transform: applied to support_x and query_x of each episode (e.g. scaling, augmentation).
        where: the settings prefix shown in error messages (e.g. "fewshot.").
    """

    def __init__(self, x: Tensor, y: Tensor, classes: Sequence[int], ways: int, shots: int, queries: int,
                 seed: int = 0, transform=None, where: str = ""):
        y = torch.as_tensor(y)
        self.x, self.transform = x, transform
        self.ways, self.shots, self.queries = int(ways), int(shots), int(queries)
        self.classes = [int(c) for c in classes]
        self.index = {c: (y == c).nonzero().flatten() for c in self.classes}
        _check_request(self.index, self.ways, self.shots, self.queries, where)
        self.generator = torch.Generator().manual_seed(int(seed))

    def sample(self) -> Episode:
        g = self.generator
        chosen = [self.classes[i] for i in torch.randperm(len(self.classes), generator=g)[: self.ways]]
        per_class = self.shots + self.queries
        picks = []
        for c in chosen:
            pool = self.index[c]
            picks.append(pool[torch.randperm(len(pool), generator=g)[:per_class]])
        picks = torch.stack(picks)                                   # [N, K+Q] indices
        support, query = picks[:, : self.shots].flatten(), picks[:, self.shots:].flatten()
        sx, qx = self.x[support], self.x[query]
        if self.transform is not None:
            sx, qx = self.transform(sx), self.transform(qx)
        labels = torch.arange(self.ways)
        return Episode(sx, labels.repeat_interleave(self.shots), qx, labels.repeat_interleave(self.queries),
                       torch.tensor(chosen))

    def take(self, n: int) -> Iterator[Episode]:
        """The next `n` episodes."""
        for _ in range(int(n)):
            yield self.sample()


class TaskBatches:
    """An endless loader for the training loop: each item is a list of `per_batch` episodes (a
    meta-batch of tasks). It has no length (training is step-based) and exposes the sampler's
    generator, which the loop saves in checkpoints, so a resumed run continues the same stream."""

    def __init__(self, sampler: EpisodeSampler, per_batch: int):
        self.sampler, self.per_batch = sampler, int(per_batch)
        self.generator = sampler.generator

    def __iter__(self) -> Iterator[list[Episode]]:
        while True:
            yield list(self.sampler.take(self.per_batch))


def _check_request(index: dict[int, Tensor], ways: int, shots: int, queries: int, where: str) -> None:
    """Refuse an episode the pool cannot fill, naming the numbers and the fix."""
    for name, value in (("ways", ways), ("shots", shots), ("queries", queries)):
        if value < 1:
            raise ConfigError(f"{where}{name}={value}: an episode needs at least 1", fix=f"--set {where}{name}=5")
    if ways < 2:
        raise ConfigError(f"{where}ways={ways}: a classification episode needs at least 2 classes",
                          fix=f"--set {where}ways=5")
    if ways > len(index):
        raise ConfigError(f"{where}ways={ways} asks for {ways} classes per episode, but only {len(index)} are "
                          f"available ({sorted(index)})",
                          fix=f"--set {where}ways={len(index)} (or fewer), or give the split more classes")
    smallest = min(index, key=lambda c: len(index[c]))
    have = len(index[smallest])
    if shots + queries > have:
        raise ConfigError(f"{where}shots={shots} + {where}queries={queries} = {shots + queries} examples per class, "
                          f"but class {smallest} has only {have}",
                          fix=f"lower {where}shots or {where}queries so that their sum is at most {have}")
