"""A plain mini-batch training loop for NumPy models, readable top to bottom.

    history = fit(model, softmax_cross_entropy, SGD(model, lr=0.1), train=(x, y), val=(xv, yv),
                  epochs=10, batch_size=128, rng=0)
    evaluate(model, softmax_cross_entropy, x_test, y_test)   # {"loss": ..., "accuracy": ...}

`loss_fn(logits, y) -> (loss, dlogits)` returns the batch-mean loss and its gradient. Each batch
runs forward, loss, backward (which fills the grads), optional regularizer, optimizer step, and a
per-batch schedule step. A NaN or inf loss stops training with `TrainingDiverged`, naming the
epoch, the batch and the learning rate; NumPy's own overflow warnings, which say neither, are
silenced inside the loop (the loss check reports what they would have).

Accuracy is reported when the task is classification: integer labels (N,) with logits (N, C),
one-hot or soft labels (N, C) (argmax of both), or 0/1 labels with one logit per sample
(logit > 0 predicts 1).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

import numpy as np

from dlcc.errors import ConfigError, InputError, TrainingDiverged


def _as_rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_split(name: str, split) -> tuple[np.ndarray, np.ndarray]:
    if not (isinstance(split, (tuple, list)) and len(split) == 2):
        raise InputError(f"fit: {name} must be a pair (x, y), got {type(split).__name__}")
    x, y = np.asarray(split[0]), np.asarray(split[1])
    if len(x) != len(y):
        raise InputError(f"fit: {name} x has {len(x)} samples (shape {x.shape}) but y has "
                         f"{len(y)} (shape {y.shape})", fix="pass inputs and labels of the same length")
    if len(x) == 0:
        raise InputError(f"fit: {name} set is empty (x shape {x.shape})")
    return x, y


def _accuracy_kind(logits: np.ndarray, y: np.ndarray) -> str | None:
    """How to count correct predictions for this (logits, y) pair, or None for regression."""
    if logits.ndim == 2 and logits.shape[1] > 1:
        if y.ndim == 1 and y.dtype.kind in "iub":
            return "argmax"
        if y.shape == logits.shape:
            return "argmax_soft"
        return None
    if logits.size == len(y) and y.size == len(y) and np.isin(y, (0, 1)).all():
        return "binary"
    return None


def _count_correct(kind: str, logits: np.ndarray, y: np.ndarray) -> int:
    if kind == "argmax":
        return int((logits.argmax(axis=1) == y).sum())
    if kind == "argmax_soft":
        return int((logits.argmax(axis=1) == y.argmax(axis=1)).sum())
    return int(((logits.reshape(-1) > 0) == (y.reshape(-1) > 0.5)).sum())


def _batches(n: int, batch_size: int, order: np.ndarray | None):
    for start in range(0, n, batch_size):
        yield slice(start, start + batch_size) if order is None else order[start:start + batch_size]


def _progress(total: int, desc: str, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, leave=False, unit="batch")


def _diverged(where: str, what: str, lr: float | None) -> TrainingDiverged:
    lr_text = f" (lr={lr:g})" if lr is not None else ""
    return TrainingDiverged(f"training diverged: {what} at {where}{lr_text}",
                            fix="lower the learning rate, check that the inputs are normalised "
                                "and finite, or overfit one small batch first to debug")


def evaluate(model, loss_fn: Callable, x, y, batch_size: int = 1024) -> dict:
    """Mean loss (and accuracy, for classification) of `model` on (x, y), in eval mode.

    Returns:
        {"loss": float} plus {"accuracy": float} when the labels are class labels.
    """
    x, y = _check_split("evaluate data", (x, y))
    was_training = model.training
    model.eval()
    try:
        total_loss, correct, kind = 0.0, 0, "unset"
        for idx in _batches(len(x), batch_size, None):
            logits = model.forward(x[idx])
            loss, _ = loss_fn(logits, y[idx])
            if kind == "unset":
                kind = _accuracy_kind(logits, y[idx])
            total_loss += float(loss) * len(y[idx])
            if kind is not None:
                correct += _count_correct(kind, logits, y[idx])
    finally:
        model.train(was_training)
    mean_loss = total_loss / len(x)
    if not math.isfinite(mean_loss):
        raise _diverged("evaluation", f"the loss is {mean_loss}", None)
    out = {"loss": mean_loss}
    if kind is not None:
        out["accuracy"] = correct / len(x)
    return out


def predict(model, x, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for all of x, in eval mode, computed batch by batch."""
    was_training = model.training
    model.eval()
    try:
        return np.concatenate([model.forward(x[idx]) for idx in _batches(len(x), batch_size, None)])
    finally:
        model.train(was_training)


def fit(model, loss_fn: Callable, optimizer, train, val=None, *, epochs: int = 10,
        batch_size: int = 128, schedule=None, shuffle: bool = True, rng=None,
        callback_per_epoch: Callable | None = None, regularizer: Callable | None = None,
        train_metrics: str = "running", eval_batch_size: int = 1024,
        progress: bool | None = None) -> dict:
    """Train `model` with mini-batches and return the per-epoch history.

    Args:
        model: a scratch Module (forward/backward/train/eval).
        loss_fn: `loss_fn(logits, y) -> (mean loss, dlogits)`.
        optimizer: a `dlcc.scratch.optim` optimizer over the model's parameters.
        train, val: (x, y) pairs; x is indexed along axis 0.
        epochs, batch_size: the last batch of an epoch may be smaller.
        schedule: a `dlcc.scratch.schedules` schedule, stepped per epoch or per batch as its
            `interval` says.
        shuffle: draw a new sample order each epoch from `rng` (a Generator or a seed); if False
            the batches are consecutive slices, as in the course's A1.
        callback_per_epoch: `callback(epoch, history)` after each epoch; return True to stop.
        regularizer: `regularizer(model)` after each backward; adds its gradient to the grads in
            place (e.g. `l2_penalty(1e-4)`); reported losses are data losses only.
        train_metrics: "running" (mean over the epoch's batches while training: free) or
            "full" (re-evaluate the whole train set in eval mode after each epoch, as A1 did).
        progress: a tqdm bar per epoch; None shows it only when stderr is a terminal.

    Returns:
        {"epoch", "lr", "train_loss", "time_s"} lists, plus "train_accuracy" for classification
        and "val_loss" / "val_accuracy" when `val` is given. The lists are shorter than `epochs`
        when a callback stopped training.

    Raises:
        TrainingDiverged: the loss became NaN or inf (names the epoch, batch and lr).
        InputError / ConfigError: mismatched data or bad settings.
    """
    x, y = _check_split("train", train)
    if val is not None:
        val = _check_split("val", val)
    if not isinstance(epochs, int) or epochs < 0:
        raise ConfigError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"fit: batch_size must be a positive integer, got {batch_size!r}")
    if train_metrics not in ("running", "full"):
        raise ConfigError(f"fit: train_metrics must be 'running' or 'full', got {train_metrics!r}")
    rng = _as_rng(rng)
    per_batch_schedule = schedule is not None and getattr(schedule, "interval", "epoch") == "batch"
    n = len(x)
    n_batches = math.ceil(n / batch_size)
    history: dict[str, list] = {"epoch": [], "lr": [], "train_loss": [], "time_s": []}
    kind = "unset"

    # The input gradient of the first layer is never needed here (the input is data), and it
    # costs about 40% of an MLP step: skip it when the model supports that, as torch does.
    if getattr(model, "can_skip_input_grad", False):
        def backward(d):
            return model.backward(d, input_grad=False)
    else:
        backward = model.backward

    # NumPy's overflow warnings name no epoch or batch; the loss check below does.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            lr_at_start = optimizer.lr
            model.train()
            order = rng.permutation(n) if shuffle else None
            bar = _progress(n_batches, f"epoch {epoch}/{epochs}", progress)
            total_loss, correct = 0.0, 0
            for b, idx in enumerate(_batches(n, batch_size, order)):
                xb, yb = x[idx], y[idx]
                logits = model.forward(xb)
                where = f"epoch {epoch}, batch {b + 1}/{n_batches}"
                if not np.isfinite(logits).all():
                    if bar is not None:
                        bar.close()
                    raise _diverged(where, "the model's outputs became NaN/inf", optimizer.lr)
                loss, dlogits = loss_fn(logits, yb)
                loss = float(loss)
                if not math.isfinite(loss):
                    if bar is not None:
                        bar.close()
                    raise _diverged(where, f"the loss is {loss}", optimizer.lr)
                backward(dlogits)
                if regularizer is not None:
                    regularizer(model)
                optimizer.step()
                if per_batch_schedule:
                    schedule.step()
                total_loss += loss * len(yb)
                if kind == "unset":
                    kind = _accuracy_kind(logits, yb)
                if kind is not None:
                    correct += _count_correct(kind, logits, yb)
                if bar is not None:
                    bar.update(1)
                    if b % 10 == 0:
                        bar.set_postfix(loss=f"{loss:.4f}")
            if bar is not None:
                bar.close()
            if schedule is not None and not per_batch_schedule:
                schedule.step()

            history["epoch"].append(epoch)
            history["lr"].append(lr_at_start)
            if train_metrics == "full":
                metrics = evaluate(model, loss_fn, x, y, eval_batch_size)
                history["train_loss"].append(metrics["loss"])
                if "accuracy" in metrics:
                    history.setdefault("train_accuracy", []).append(metrics["accuracy"])
            else:
                history["train_loss"].append(total_loss / n)
                if kind is not None:
                    history.setdefault("train_accuracy", []).append(correct / n)
            if val is not None:
                metrics = evaluate(model, loss_fn, *val, batch_size=eval_batch_size)
                history.setdefault("val_loss", []).append(metrics["loss"])
                if "accuracy" in metrics:
                    history.setdefault("val_accuracy", []).append(metrics["accuracy"])
            history["time_s"].append(time.perf_counter() - started)
            if callback_per_epoch is not None and callback_per_epoch(epoch, history):
                break
    return history


def l2_penalty(strength: float, keys: tuple[str, ...] = ("weight",)) -> Callable:
    """A `regularizer` for `fit`: adds the gradient of strength * sum(W^2), i.e. 2 * strength * W,
    to the grads of every parameter whose key is in `keys` (weights, not biases, as in A1)."""
    def regularize(model) -> None:
        for _, module, key in model.named_parameters():
            if key in keys and key in module.grads:
                module.grads[key] += (2.0 * strength) * module.params[key]
    return regularize


__all__ = ["fit", "evaluate", "predict", "l2_penalty"]
