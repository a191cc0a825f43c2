"""Classification metrics: accuracy, confusion matrix, per-class accuracy, top losses.

Arguments follow the losses: `(pred, target)`. `pred` is either class indices `[N]` (int) or
scores `[N, K]` (logits or probabilities; the argmax is taken); `target` is class indices
`[N]`. Torch tensors or numpy arrays are accepted; arrays come back as torch tensors.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from dlcc.errors import InputError


def _labels(pred, target) -> tuple[Tensor, Tensor]:
    p = pred if isinstance(pred, Tensor) else torch.as_tensor(np.asarray(pred))
    t = target if isinstance(target, Tensor) else torch.as_tensor(np.asarray(target))
    p, t = p.detach(), t.detach()
    if p.ndim == 2:
        p = p.argmax(1)
    if p.ndim != 1 or t.ndim != 1 or len(p) != len(t):
        raise InputError(f"expected predictions [N] or [N, K] and targets [N]; got {tuple(p.shape)} "
                         f"and {tuple(t.shape)}", fix="pass one prediction (or score row) per target label")
    return p.long(), t.long()


def accuracy(pred, target) -> float:
    """Fraction of correct predictions (NaN for empty input)."""
    p, t = _labels(pred, target)
    return float((p == t).double().mean()) if len(t) else float("nan")


def confusion_matrix(pred, target, num_classes: int | None = None) -> Tensor:
    """`[K, K]` int64 counts; row = true class, column = predicted class.

    `num_classes` defaults to 1 + the largest label seen.
    """
    p, t = _labels(pred, target)
    k = num_classes if num_classes is not None else int(max(p.max(), t.max()) + 1) if len(t) else 0
    if len(t) and (min(p.min(), t.min()) < 0 or max(p.max(), t.max()) >= k):
        raise InputError(f"labels must be in [0, {k}); found {int(min(p.min(), t.min()))}.."
                         f"{int(max(p.max(), t.max()))}", fix="pass the right num_classes")
    return torch.bincount(t * k + p, minlength=k * k).reshape(k, k)


def per_class_accuracy(pred, target, num_classes: int | None = None) -> Tensor:
    """Accuracy within each true class (= recall), `[K]` float64; NaN for classes with no samples."""
    cm = confusion_matrix(pred, target, num_classes).double()
    support = cm.sum(1)
    return torch.where(support > 0, cm.diagonal() / support.clamp_min(1), torch.full_like(support, float("nan")))


def per_sample_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Cross-entropy of each sample, `[N]` (logits `[N, K]`, integer targets `[N]`)."""
    return F.cross_entropy(logits.detach().float(), target.long(), reduction="none")


def top_losses(losses, k: int) -> tuple[Tensor, Tensor]:
    """The `k` largest per-sample losses and their indices, largest first: `(values [k], indices [k])`.

    "Look at your errors": the samples the model gets most wrong are often mislabelled,
    ambiguous, or a class the model has not learnt. `k` is capped at the number of samples.
    """
    loss = losses if isinstance(losses, Tensor) else torch.as_tensor(np.asarray(losses))
    loss = loss.detach().flatten()
    if k < 0:
        raise InputError(f"k must be >= 0, got {k}", fix="e.g. k=9")
    values, indices = torch.topk(loss, min(k, loss.numel()))
    return values, indices


class ConfusionMatrix:
    """Accumulate a confusion matrix over batches: `cm.update(logits, y)`, then `cm.matrix`."""

    def __init__(self, num_classes: int):
        self.num_classes = num_classes
        self.matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)

    def update(self, pred, target) -> None:
        self.matrix += confusion_matrix(pred, target, self.num_classes).cpu()

    def accuracy(self) -> float:
        total = int(self.matrix.sum())
        return float(self.matrix.diagonal().sum()) / total if total else float("nan")

    def per_class_accuracy(self) -> Tensor:
        m = self.matrix.double()
        support = m.sum(1)
        return torch.where(support > 0, m.diagonal() / support.clamp_min(1), torch.full_like(support, float("nan")))
