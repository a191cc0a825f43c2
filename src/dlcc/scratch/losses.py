"""Losses with their gradients: each returns `(loss, dlogits)` and matches torch's value.

    loss, dlogits = cross_entropy(logits, labels)       # loss: float; dlogits: logits' shape
    dx = model.backward(dlogits)

`dlogits` is d(loss)/d(logits) for the chosen reduction ("mean" by default, like torch), in
the logits' dtype. Bad shapes, integer logits, out-of-range labels and NaN/inf raise InputError.
"""

from __future__ import annotations

import numpy as np

from dlcc.errors import InputError
from dlcc.scratch.base import check_array
from dlcc.scratch.functional import log_softmax, sigmoid

_REDUCTIONS = ("mean", "sum")


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise InputError(f"{name}: reduction must be 'mean' or 'sum', got {reduction!r}")


def _finite_loss(name: str, loss: float, shape: tuple[int, ...]) -> float:
    if not np.isfinite(loss):
        raise InputError(f"{name}: loss is {loss} for input of shape {shape}",
                         fix="lower the learning rate or check the data; values overflowed")
    return float(loss)


def cross_entropy(logits: np.ndarray, target: np.ndarray, *, label_smoothing: float = 0.0,
                  ignore_index: int = -100, reduction: str = "mean") -> tuple[float, np.ndarray]:
    """Softmax cross-entropy on raw scores, as torch.nn.functional.cross_entropy.

    Args:
        logits: (N, C) or (N, C, d1, ...) scores (not probabilities).
        target: integer class ids of shape (N,) / (N, d1, ...), or class probabilities of the
            logits' shape (soft or one-hot labels).
        label_smoothing: eps in [0, 1]; the target becomes (1 - eps) * target + eps / C.
        ignore_index: integer targets equal to it contribute nothing (and are not counted in
            the mean). Not used with probability targets.

    Returns:
        (loss, dlogits): the loss as a float and its gradient with the logits' shape and dtype.
        log-softmax is computed with the log-sum-exp shift, so large logits never overflow.
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    logits = check_array(name, logits, name="logits")
    if logits.ndim < 2:
        raise InputError(f"{name}: logits have shape {logits.shape}, expected (N, C) or (N, C, ...)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise InputError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    target = np.asarray(target)
    c = logits.shape[1]
    # Work on (M, C) rows: move the class axis last for spatial (N, C, d1, ...) inputs.
    rows = np.moveaxis(logits, 1, -1).reshape(-1, c)
    logp = log_softmax(rows, axis=1)
    p = np.exp(logp)
    eps = logits.dtype.type(label_smoothing)
    if target.dtype.kind in "iu":
        expected = (logits.shape[0],) + logits.shape[2:]
        if target.shape != expected:
            raise InputError(f"{name}: integer targets have shape {target.shape}, expected "
                             f"{expected} for logits of shape {logits.shape}")
        labels = target.reshape(-1)
        valid = labels != ignore_index
        bad = valid & ((labels < 0) | (labels >= c))
        if bad.any():
            raise InputError(f"{name}: target contains class id {labels[bad][0]} but logits have "
                             f"{c} classes (valid ids 0..{c - 1})",
                             fix="check the label encoding and the model's number of outputs")
        count = int(valid.sum())
        if count == 0:
            raise InputError(f"{name}: every target equals ignore_index={ignore_index}; the mean "
                             "loss is undefined", fix="drop batches that contain only ignored targets")
        safe = np.where(valid, labels, 0)
        picked = logp[np.arange(len(labels)), safe]
        per_row = -picked
        if eps:   # smoothing mixes in the uniform distribution: its loss is -mean(logp)
            per_row = (1 - eps) * per_row - eps / c * logp.sum(axis=1)
        if count < len(labels):
            per_row = np.where(valid, per_row, 0)
        grad = p
        grad[np.arange(len(labels)), safe] -= 1 - eps
        if eps:
            grad -= eps / c
        if count < len(labels):
            grad *= valid[:, None]
        denominator = count
    else:
        target = check_array(name, target, name="target")
        if target.shape != logits.shape:
            raise InputError(f"{name}: probability targets have shape {target.shape}, expected the "
                             f"logits' shape {logits.shape}",
                             fix="pass integer class ids, or probabilities shaped like the logits")
        t = np.moveaxis(target, 1, -1).reshape(-1, c).astype(logits.dtype, copy=False)
        if label_smoothing:
            t = (1 - eps) * t + eps / c
        per_row = -(t * logp).sum(axis=1)
        grad = p * t.sum(axis=1, keepdims=True) - t   # general form: targets need not sum to 1
        denominator = rows.shape[0]
    loss = per_row.sum()
    if reduction == "mean":
        loss = loss / denominator
        grad /= denominator
    grad = np.moveaxis(grad.reshape(logits.shape[:1] + logits.shape[2:] + (c,)), -1, 1)
    return _finite_loss(name, loss, logits.shape), np.ascontiguousarray(grad)


softmax_cross_entropy = cross_entropy


def binary_cross_entropy_with_logits(logits: np.ndarray, target: np.ndarray, *,
                                     pos_weight: np.ndarray | float | None = None,
                                     reduction: str = "mean") -> tuple[float, np.ndarray]:
    """Sigmoid + binary cross-entropy in one stable step, as torch's BCEWithLogitsLoss.

    loss = -[pos_weight * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x))], where the logs
    are written as softplus terms (log(1 + e^x) = logaddexp(0, x)) so no exp overflows.

    Args:
        logits: any shape. target: the same shape, values in [0, 1].
        pos_weight: weight of the positive term, broadcast over the last axis (one per class).
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    x = check_array(name, logits, name="logits")
    t = np.asarray(target)
    if t.dtype.kind in "biu":
        t = t.astype(x.dtype)
    t = check_array(name, t, name="target")
    if t.shape != x.shape:
        raise InputError(f"{name}: target has shape {t.shape}, expected the logits' shape {x.shape}")
    t = t.astype(x.dtype, copy=False)
    softplus_pos = np.logaddexp(0, x)     # -log(1 - sigmoid(x))
    softplus_neg = softplus_pos - x       # -log(sigmoid(x))
    s = sigmoid(x)
    if pos_weight is None:
        per_item = t * softplus_neg + (1 - t) * softplus_pos
        grad = s - t
    else:
        pw = check_array(name, np.asarray(pos_weight, dtype=x.dtype), name="pos_weight")
        try:
            fits = np.broadcast_shapes(pw.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise InputError(f"{name}: pos_weight of shape {pw.shape} does not broadcast to the "
                             f"logits' shape {x.shape}", fix="give one weight per class (last axis)")
        per_item = pw * t * softplus_neg + (1 - t) * softplus_pos
        grad = (1 - t) * s - pw * t * (1 - s)
    loss = per_item.sum()
    if reduction == "mean":
        loss = loss / x.size
        grad = grad / x.dtype.type(x.size)
    return _finite_loss(name, loss, x.shape), grad.astype(x.dtype, copy=False)


def mse_loss(pred: np.ndarray, target: np.ndarray, *,
             reduction: str = "mean") -> tuple[float, np.ndarray]:
    """Mean squared error, mean((pred - target)^2); gradient 2 (pred - target) / numel.

    pred and target must have the same shape (torch would broadcast with a warning; a
    mismatch here is almost always a bug, so it is an error).
    """
    name = "mse_loss"
    _check_reduction(name, reduction)
    pred = check_array(name, pred, name="prediction")
    target = np.asarray(target)
    if target.dtype.kind in "biu":
        target = target.astype(pred.dtype)
    target = check_array(name, target, name="target")
    if target.shape != pred.shape:
        raise InputError(f"{name}: target has shape {target.shape}, expected the prediction's "
                         f"shape {pred.shape}", fix="reshape one of them, e.g. y.reshape(-1, 1)")
    diff = pred - target.astype(pred.dtype, copy=False)
    loss = np.vdot(diff, diff)   # diff is a fresh contiguous array: one BLAS dot
    grad = diff * pred.dtype.type(2)
    if reduction == "mean":
        loss = loss / pred.size
        grad /= pred.dtype.type(pred.size)
    return _finite_loss(name, loss, pred.shape), grad


class _Loss:
    """Callable wrapper with torch's class names: `loss, grad = CrossEntropyLoss()(logits, y)`."""

    def __init__(self, **options) -> None:
        self.options = options

    def __call__(self, prediction, target) -> tuple[float, np.ndarray]:
        return type(self).function(prediction, target, **self.options)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({args})"


class CrossEntropyLoss(_Loss):
    function = staticmethod(cross_entropy)

    def __init__(self, *, label_smoothing: float = 0.0, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(label_smoothing=label_smoothing, ignore_index=ignore_index,
                         reduction=reduction)


class BCEWithLogitsLoss(_Loss):
    function = staticmethod(binary_cross_entropy_with_logits)

    def __init__(self, *, pos_weight=None, reduction: str = "mean") -> None:
        super().__init__(pos_weight=pos_weight, reduction=reduction)


class MSELoss(_Loss):
    function = staticmethod(mse_loss)

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
