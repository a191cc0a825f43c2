"""The sample-quality measures: the Fréchet distance against closed forms and scipy's matrix
square root, nearest neighbours against brute force, the copy check on planted copies, and the
class scores."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from dlcc.errors import InputError
from dlcc.metrics.frechet import frechet_distance, frechet_distance_features, gaussian_stats
from dlcc.metrics.samples import class_coverage, conditional_accuracy, copy_check, nearest_neighbours, \
    per_class_accuracy
from dlcc.metrics.waveforms import waveform_errors


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_distance_matches_the_sqrtm_formula():
    rng = np.random.default_rng(0)
    for d in (1, 5, 32):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = _random_cov(rng, d), _random_cov(rng, d)
        covmean = linalg.sqrtm(s1 @ s2).real                     # the textbook (FID reference) route
        expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8, abs=1e-10)


def test_frechet_distance_closed_forms():
    # diagonal covariances: Σ (μ1-μ2)² + Σ (√a - √b)²
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    expected = 5.0 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)
    s = _random_cov(np.random.default_rng(1), 4)
    assert frechet_distance(mu1[:2].repeat(2), s, mu1[:2].repeat(2), s) == pytest.approx(0.0, abs=1e-9)
    # singular covariances (a collapsed set): still finite and exact
    assert frechet_distance(np.zeros(2), np.zeros((2, 2)), np.zeros(2), np.eye(2)) == pytest.approx(2.0)


def test_frechet_distance_of_feature_sets_is_symmetric_and_sees_shifts():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4000, 8))
    y = rng.normal(size=(4000, 8))
    near = frechet_distance_features(x, y)
    assert near == pytest.approx(frechet_distance_features(y, x), rel=1e-9)
    assert near < 0.05                                            # same distribution: sampling noise only
    diff = x.mean(0) - y.mean(0)                                 # a shift changes only the mean term
    shifted = near - diff @ diff + (diff - 1.0) @ (diff - 1.0)
    assert frechet_distance_features(x, y + 1.0) == pytest.approx(shifted, rel=1e-9)
    with pytest.raises(InputError, match="at least two"):
        gaussian_stats(np.zeros((1, 3)))
    with pytest.raises(InputError, match="NaN"):
        gaussian_stats(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(InputError, match="one dimension"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_nearest_neighbours_equal_brute_force_across_chunks():
    rng = np.random.default_rng(3)
    q, r = rng.normal(size=(37, 6)), rng.normal(size=(101, 6))
    d, i = nearest_neighbours(q, r, chunk=8, ref_chunk=16)
    full = ((q[:, None, :] - r[None, :, :]) ** 2).sum(-1)
    assert np.array_equal(i, full.argmin(1))
    assert np.allclose(d, full.min(1), rtol=1e-5, atol=1e-5)
    with pytest.raises(InputError, match="cannot be compared"):
        nearest_neighbours(q, r[:, :5])


def test_copy_check_flags_copies_and_passes_new_samples():
    rng = np.random.default_rng(4)
    train = rng.normal(size=(3000, 20))
    held_out = rng.normal(size=(500, 20))
    new = copy_check(rng.normal(size=(500, 20)), train, held_out)
    assert 0.0 <= new["near_copy_rate"] <= 0.05 and new["ratio"] == pytest.approx(1.0, abs=0.05)
    copies = train[rng.choice(3000, 500)] + rng.normal(scale=0.01, size=(500, 20))
    found = copy_check(copies, train, held_out)
    assert found["near_copy_rate"] > 0.99 and found["ratio"] < 0.05


def test_class_scores():
    assert conditional_accuracy(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2])) == 0.75
    assert per_class_accuracy(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 4) == [1.0, 1.0, 0.5, None]
    even = class_coverage(np.arange(1000) % 10, 10)
    assert even == {"min_share": pytest.approx(1.0), "entropy": pytest.approx(1.0)}
    collapsed = class_coverage(np.zeros(100, int), 10)
    assert collapsed["min_share"] == 0.0 and collapsed["entropy"] == pytest.approx(0.0)
    with pytest.raises(InputError, match="one length"):
        conditional_accuracy(np.array([0, 1]), np.array([0]))


def test_waveform_errors():
    t = np.sin(np.linspace(0, 6, 50))[None].repeat(3, 0)
    assert waveform_errors(t, t) == {"mae": 0.0, "rmse": 0.0, "corr": pytest.approx(1.0)}
    flipped = waveform_errors(-t, t)
    assert flipped["corr"] == pytest.approx(-1.0) and flipped["mae"] == pytest.approx(2 * np.abs(t).mean())
    assert waveform_errors(2 * t + 5, t)["corr"] == pytest.approx(1.0)      # shape, not scale or offset
    assert waveform_errors(np.zeros_like(t), t)["corr"] == 0.0
