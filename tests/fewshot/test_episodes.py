"""EpisodeSampler: shapes, classes, support/query disjointness, seeding, and refused requests."""

from __future__ import annotations

import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.fewshot import EpisodeSampler, TaskBatches


def pool(per_class: int = 30, classes: int = 10):
    """x[i] = i (so an episode's inputs name the examples drawn), y = i // per_class."""
    n = per_class * classes
    return torch.arange(n, dtype=torch.float32)[:, None], torch.arange(n) // per_class


def test_episode_shapes_labels_and_classes():
    x, y = pool()
    ep = EpisodeSampler(x, y, [5, 6, 7, 8, 9], ways=3, shots=2, queries=4, seed=0).sample()
    assert ep.support_x.shape == (6, 1) and ep.query_x.shape == (12, 1)
    assert ep.support_y.tolist() == [0, 0, 1, 1, 2, 2]
    assert ep.query_y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert len(set(ep.classes.tolist())) == 3 and set(ep.classes.tolist()) <= {5, 6, 7, 8, 9}
    for xs, ys in ((ep.support_x, ep.support_y), (ep.query_x, ep.query_y)):   # each example is of its class
        original = y[xs[:, 0].long()]
        assert torch.equal(original, ep.classes[ys])


def test_support_and_query_are_disjoint_and_seeded():
    x, y = pool()
    a = EpisodeSampler(x, y, range(10), ways=5, shots=5, queries=10, seed=3)
    b = EpisodeSampler(x, y, range(10), ways=5, shots=5, queries=10, seed=3)
    for ea, eb in zip(a.take(5), b.take(5)):
        assert torch.equal(ea.query_x, eb.query_x) and torch.equal(ea.classes, eb.classes)
        drawn = torch.cat([ea.support_x, ea.query_x])[:, 0]
        assert len(drawn.unique()) == len(drawn)       # no example twice, so support ∩ query = ∅
    other = EpisodeSampler(x, y, range(10), ways=5, shots=5, queries=10, seed=4).sample()
    assert not torch.equal(other.query_x, a.sample().query_x)


def test_task_batches_group_episodes_and_share_the_generator():
    x, y = pool()
    sampler = EpisodeSampler(x, y, range(4), ways=2, shots=1, queries=1, seed=0)
    batches = TaskBatches(sampler, 3)
    assert batches.generator is sampler.generator and not hasattr(batches, "__len__")
    assert len(next(iter(batches))) == 3


def test_transform_applies_to_both_sets():
    x, y = pool()
    ep = EpisodeSampler(x, y, range(3), ways=2, shots=1, queries=2, transform=lambda t: -t - 1).sample()
    assert (ep.support_x < 0).all() and (ep.query_x < 0).all()


def test_too_many_ways_names_the_numbers_and_the_fix():
    x, y = pool()
    with pytest.raises(ConfigError) as err:
        EpisodeSampler(x, y, [0, 1, 2, 3, 4], ways=12, shots=1, queries=1, where="fewshot.")
    assert "fewshot.ways=12" in err.value.message and "only 5" in err.value.message
    assert "fewshot.ways=5" in err.value.fix


def test_too_many_shots_and_queries_names_the_class_and_its_size():
    x, y = pool(per_class=30)
    keep = ~((y == 2) & (torch.arange(len(y)) % 30 >= 8))   # class 2 keeps 8 examples
    with pytest.raises(ConfigError) as err:
        EpisodeSampler(x[keep], y[keep], [0, 1, 2], ways=2, shots=5, queries=15, where="fewshot.")
    assert "= 20 examples per class" in err.value.message and "class 2 has only 8" in err.value.message
    assert "at most 8" in err.value.fix


@pytest.mark.parametrize("ways, shots, queries", [(1, 1, 1), (2, 0, 1), (2, 1, 0)])
def test_degenerate_requests_are_refused(ways, shots, queries):
    x, y = pool()
    with pytest.raises(ConfigError):
        EpisodeSampler(x, y, range(5), ways=ways, shots=shots, queries=queries)
