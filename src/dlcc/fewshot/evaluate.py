"""Few-shot evaluation: accuracy over many test episodes, with a 95 % confidence interval.

Each episode gives one accuracy (the share of its queries classified correctly); the report is
their mean and the half-width of the normal-approximation interval,

    ci95 = 1.96 * std(accuracies) / sqrt(n_episodes),

the convention of the few-shot literature (Snell et al., Finn et al. report "± ci95"). With
1,000 episodes the interval is typically ±0.2 to ±0.8 points. The episodes come from a sampler
with its own seed, so two models are compared on exactly the same tasks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from dlcc.fewshot.episodes import Episode, EpisodeSampler


def mean_ci95(values) -> tuple[float, float]:
    """(mean, 1.96 * sample std / sqrt(n)) of a sequence of numbers (ci 0 for a single value)."""
    v = torch.as_tensor(list(values), dtype=torch.float64)
    if len(v) == 0:
        raise ValueError("mean_ci95 needs at least one value")
    std = float(v.std(unbiased=True)) if len(v) > 1 else 0.0
    return float(v.mean()), 1.96 * std / math.sqrt(len(v))


def evaluate_episodes(model: nn.Module, predict: Callable[[nn.Module, Episode], Tensor], sampler: EpisodeSampler,
                      episodes: int, device: torch.device | str = "cpu") -> dict[str, float]:
    """Accuracy of `predict(model, episode) -> [N*Q] classes` over `episodes` episodes.

    Returns {"accuracy", "ci95", "episodes"}; the model is put in eval mode for the duration.
    """
    was_training = model.training
    model.eval()
    try:
        accs = []
        for ep in sampler.take(episodes):
            ep = ep.to(device)
            accs.append(float((predict(model, ep) == ep.query_y).float().mean()))
    finally:
        model.train(was_training)
    mean, ci = mean_ci95(accs)
    return {"accuracy": mean, "ci95": ci, "episodes": len(accs)}
