"""Scoring generated samples with a judge (dlcc.models.judges): Fréchet distance with its
floor and ceiling, conditional accuracy, class coverage and the copy check.

Every Fréchet distance is reported between two controls measured the same way, with the same
number of samples against the same reference set:

- floor: real vs real - other real samples of the same distribution (what a perfect generator
  would score; above 0 because both sets are finite);
- the generator's samples;
- ceiling: a *collapsed* generator that repeats one fixed real sample per class - perfect
  images, no diversity, the extreme of mode collapse.

So a distance is read as a position between the floor and the ceiling; `fd_ratio` is the
generator's distance over the ceiling's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from dlcc.metrics.frechet import frechet_distance, frechet_distance_features, gaussian_stats
from dlcc.metrics.samples import class_coverage, conditional_accuracy, copy_check, per_class_accuracy
from dlcc.models.judges import Judge


@torch.no_grad()
def judge_outputs(judge: Judge, x: torch.Tensor, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Penultimate features `[n, d]` (float64) and predicted labels `[n]` of samples `x`."""
    feats, labels = [], []
    for i in range(0, len(x), batch):
        f = judge.features(x[i:i + batch].float().cpu())
        feats.append(f.double().numpy())
        labels.append(judge.head(f).argmax(1).numpy())
    return np.concatenate(feats), np.concatenate(labels)


def collapsed(real: torch.Tensor, labels: torch.Tensor, n: int, num_classes: int, seed: int = 0) -> torch.Tensor:
    """The collapsed control: one real sample per class (chosen with `seed`), each repeated so
    that the n samples have the classes in equal shares (or only `real[i]` without classes)."""
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in range(num_classes):
        idx = torch.nonzero(labels == c).flatten()
        if len(idx):
            picks.append(idx[torch.randint(len(idx), (1,), generator=g)])
    chosen = real[torch.cat(picks)]
    return chosen.repeat_interleave(-(-n // len(chosen)), dim=0)[:n]


def fd_with_controls(generated: np.ndarray, reference: np.ndarray, floor: np.ndarray,
                     ceiling: np.ndarray) -> dict[str, float]:
    """{"fd", "fd_floor", "fd_collapsed", "fd_ratio"} for feature sets against `reference`."""
    ref = gaussian_stats(reference)

    def fd(features):
        return frechet_distance(*gaussian_stats(features), *ref)

    out = {"fd": fd(generated), "fd_floor": fd(floor), "fd_collapsed": fd(ceiling)}
    out["fd_ratio"] = out["fd"] / max(out["fd_collapsed"], 1e-12)
    return out


def class_scores(predicted: np.ndarray, conditioned: np.ndarray | None, num_classes: int) -> dict:
    """Conditional accuracy (overall and per class) when samples were conditioned, else the
    class coverage of an unconditional generator."""
    if conditioned is None:
        return {f"class_{k}": v for k, v in class_coverage(predicted, num_classes).items()}
    return {"cond_accuracy": conditional_accuracy(predicted, conditioned),
            "cond_accuracy_per_class": per_class_accuracy(predicted, conditioned, num_classes)}


def copy_scores(generated: torch.Tensor, train: torch.Tensor, held_out: torch.Tensor) -> dict:
    """The nearest-neighbour copy check in sample space (dlcc.metrics.samples.copy_check)."""
    found = copy_check(generated.float().cpu().numpy(), train.float().cpu().numpy(), held_out.float().cpu().numpy())
    return {"nn_ratio": found["ratio"], "nn_median": found["gen_median"], "nn_median_held_out": found["held_out_median"],
            "near_copy_rate": found["near_copy_rate"], "threshold": found["threshold"], "nn_index": found["gen_index"], "nn_distance": found["gen_distance"]}


def fd_monitor(judge: Judge, generate: Callable[[int], torch.Tensor], reference: torch.Tensor) -> Callable[[], float]:
    """A zero-argument function for `EvalMonitor`: the Fréchet distance of `len(reference)`
    fresh samples (`generate(n)`) against `reference`, whose features are computed once."""
    ref_features, _ = judge_outputs(judge, reference)

    def measure() -> float:
        features, _ = judge_outputs(judge, generate(len(reference)))
        if not np.isfinite(features).all():
            return float("nan")
        return frechet_distance_features(features, ref_features)

    return measure
