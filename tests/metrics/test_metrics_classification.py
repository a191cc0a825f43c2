"""Accuracy, confusion matrix, per-class accuracy, top losses: hand-computed values and sklearn parity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcc.errors import InputError
from dlcc.metrics import (ConfusionMatrix, accuracy, confusion_matrix, per_class_accuracy, per_sample_cross_entropy,
                          top_losses)

PRED = torch.tensor([0, 1, 1, 2, 2, 2, 0])
TARGET = torch.tensor([0, 1, 2, 2, 2, 0, 0])


def test_accuracy_labels_and_scores():
    assert accuracy(PRED, TARGET) == pytest.approx(5 / 7)
    scores = F.one_hot(PRED, 3).float() * 5 + 0.1
    assert accuracy(scores, TARGET) == pytest.approx(5 / 7)
    assert accuracy(np.array([1, 1]), np.array([1, 0])) == 0.5
    assert math.isnan(accuracy(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long)))


def test_confusion_matrix_hand_values():
    cm = confusion_matrix(PRED, TARGET)
    assert cm.tolist() == [[2, 0, 1],   # true 0: two right, one called 2
                           [0, 1, 0],
                           [0, 1, 2]]   # true 2: one called 1, two right
    assert cm.dtype == torch.int64
    assert confusion_matrix(PRED, TARGET, num_classes=5).shape == (5, 5)


def test_confusion_matrix_matches_sklearn():
    from sklearn.metrics import confusion_matrix as sk_cm

    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    assert np.array_equal(confusion_matrix(p, t, 10).numpy(), sk_cm(t, p, labels=range(10)))


def test_per_class_accuracy_with_missing_class():
    acc = per_class_accuracy(PRED, TARGET, num_classes=4)
    assert acc[:3].tolist() == pytest.approx([2 / 3, 1.0, 2 / 3])
    assert math.isnan(acc[3])


def test_streaming_confusion_matrix_equals_one_shot():
    cm = ConfusionMatrix(3)
    cm.update(PRED[:3], TARGET[:3])
    cm.update(F.one_hot(PRED[3:], 3).float(), TARGET[3:])
    assert torch.equal(cm.matrix, confusion_matrix(PRED, TARGET, 3))
    assert cm.accuracy() == pytest.approx(5 / 7)
    assert torch.allclose(cm.per_class_accuracy(), per_class_accuracy(PRED, TARGET, 3))


def test_top_losses():
    logits = torch.tensor([[4.0, 0.0], [0.0, 4.0], [0.0, 0.0], [-3.0, 3.0]])
    target = torch.tensor([0, 0, 1, 0])
    losses = per_sample_cross_entropy(logits, target)
    assert torch.allclose(losses, F.cross_entropy(logits, target, reduction="none"))
    values, idx = top_losses(losses, 2)
    assert idx.tolist() == [3, 1] and torch.all(values[:-1] >= values[1:])
    assert top_losses(np.array([0.1, 0.5]), 10)[1].tolist() == [1, 0]  # k capped at N


def test_errors():
    with pytest.raises(InputError, match="one prediction"):
        accuracy(torch.zeros(3), torch.zeros(4))
    with pytest.raises(InputError, match=r"labels must be in \[0, 2\)"):
        confusion_matrix(torch.tensor([0, 2]), torch.tensor([0, 1]), num_classes=2)
    with pytest.raises(InputError, match="k must be"):
        top_losses(torch.zeros(3), -1)
