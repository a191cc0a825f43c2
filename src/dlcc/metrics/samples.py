"""Checks on generated samples beyond the Fréchet distance: conditional accuracy, class
coverage, and the nearest-neighbour test for copies of the training set.

- `conditional_accuracy(predicted, conditioned)`: the share of class-c samples that a
  classifier labels c; a conditional generator that ignores its label scores 1/K.
- `class_coverage(predicted, K)`: how evenly an unconditional generator covers the classes
  (the share of the rarest class relative to 1/K, and the entropy of the label histogram
  relative to log K): mode collapse shows as a class that is never generated.
- `nearest_neighbours(queries, references)`: squared Euclidean distance and index of each
  query's nearest reference.
- `copy_check(generated, train, held_out)`: a generator that memorised its training set puts
  samples closer to a training sample than genuinely new data comes. The yardstick is held-out
  real data, which the generator never saw: its nearest-neighbour distances to the training
  set show how close a *new* sample typically lies. A generated sample nearer than the 1st
  percentile of those distances counts as a near-copy; for held-out data that rate is 1 % by
  construction, so a rate far above 1 % means copying.
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import InputError


def conditional_accuracy(predicted: np.ndarray, conditioned: np.ndarray) -> float:
    """Share of samples whose predicted class equals the class they were generated for."""
    predicted, conditioned = np.asarray(predicted), np.asarray(conditioned)
    if predicted.shape != conditioned.shape or predicted.ndim != 1 or not len(predicted):
        raise InputError(f"predicted {predicted.shape} and conditioned {conditioned.shape} labels must be "
                         "non-empty and of one length", fix="pass one label of each kind per sample")
    return float((predicted == conditioned).mean())


def per_class_accuracy(predicted: np.ndarray, conditioned: np.ndarray, num_classes: int) -> list[float | None]:
    """Conditional accuracy per class (None for a class that was not generated)."""
    predicted, conditioned = np.asarray(predicted), np.asarray(conditioned)
    return [float((predicted[conditioned == c] == c).mean()) if (conditioned == c).any() else None
            for c in range(num_classes)]


def class_coverage(predicted: np.ndarray, num_classes: int) -> dict[str, float]:
    """{"min_share": share of the rarest class x K (1 = even), "entropy": H(labels) / log K}."""
    counts = np.bincount(np.asarray(predicted, dtype=np.int64), minlength=num_classes)[:num_classes]
    p = counts / max(counts.sum(), 1)
    nz = p[p > 0]
    return {"min_share": float(p.min() * num_classes), "entropy": float(-(nz * np.log(nz)).sum() / np.log(num_classes))}


def nearest_neighbours(queries: np.ndarray, references: np.ndarray, chunk: int = 1024,
                       ref_chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Squared Euclidean distance `[n]` and index `[n]` of each query's nearest reference.

    queries `[n, ...]` and references `[m, ...]` are flattened to vectors; the distance
    ‖q‖² − 2 q·r + ‖r‖² is computed in float32 blocks of `chunk` queries x `ref_chunk`
    references (memory about 4·chunk·ref_chunk bytes, whatever m is), keeping the running
    minimum; ties go to the lower index.
    """
    q = np.asarray(queries, dtype=np.float32).reshape(len(queries), -1)
    r = np.asarray(references, dtype=np.float32).reshape(len(references), -1)
    if q.shape[1] != r.shape[1] or not len(r):
        raise InputError(f"queries of size {q.shape[1]} and references of size {r.shape[1]} (m={len(r)}) "
                         "cannot be compared", fix="compare samples of one shape with a non-empty reference set")
    r_sq = (r.astype(np.float64) ** 2).sum(axis=1).astype(np.float32)
    dist = np.full(len(q), np.inf)
    index = np.zeros(len(q), dtype=np.int64)
    for start in range(0, len(q), chunk):
        block = q[start:start + chunk]
        b_sq = (block.astype(np.float64) ** 2).sum(axis=1, keepdims=True).astype(np.float32)
        rows = slice(start, start + len(block))
        for r_start in range(0, len(r), ref_chunk):
            d = b_sq - 2 * block @ r[r_start:r_start + ref_chunk].T + r_sq[r_start:r_start + ref_chunk]
            best = d.argmin(axis=1)
            value = d[np.arange(len(block)), best]
            better = value < dist[rows]
            dist[rows] = np.where(better, value, dist[rows])
            index[rows] = np.where(better, best + r_start, index[rows])
    return np.maximum(dist, 0), index


def copy_check(generated: np.ndarray, train: np.ndarray, held_out: np.ndarray, quantile: float = 0.01) -> dict:
    """Nearest training sample of generated and of held-out real samples (module docstring).

    Returns {"gen_median", "held_out_median": median distance (not squared) to the nearest
    training sample, "ratio": their ratio (about 1 or more: no sign of copying), "threshold":
    the held-out `quantile` distance, "near_copy_rate": share of generated samples below it
    (`quantile` for data like the held-out set), "gen_index": nearest training index per
    generated sample, "gen_distance": its distance}.
    """
    gen_d, gen_i = nearest_neighbours(generated, train)
    held_d, _ = nearest_neighbours(held_out, train)
    gen_d, held_d = np.sqrt(gen_d), np.sqrt(held_d)
    threshold = float(np.quantile(held_d, quantile))
    return {"gen_median": float(np.median(gen_d)), "held_out_median": float(np.median(held_d)),
            "ratio": float(np.median(gen_d) / max(np.median(held_d), 1e-12)), "threshold": threshold,
            "near_copy_rate": float((gen_d < threshold).mean()), "gen_index": gen_i, "gen_distance": gen_d}
