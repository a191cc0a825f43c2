"""Evaluation helpers: batch metrics, `evaluate` over a loader, `predict`.

A metric is a function `fn(logits, targets) -> scalar tensor`, the mean over the batch;
`evaluate` weights each batch by its size, so the result is exact over the whole loader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext

import torch
from torch import nn

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of rows whose arg-max equals the target. logits `[B, C]`, targets int64 `[B]`."""
    return (logits.argmax(dim=1) == targets).float().mean()


DEFAULT_METRICS: dict[str, Metric] = {"accuracy": accuracy}


def to_device(batch, device: torch.device, non_blocking: bool = False):
    """Move a tensor, or a (nested) tuple/list/dict of tensors, to `device`."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(b, device, non_blocking) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device, non_blocking) for k, v in batch.items()}
    return batch


def autocast_context(device: torch.device, dtype: torch.dtype | None):
    """`torch.autocast` for mixed precision, or a no-op when `dtype` is None (CPU, amp off)."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, loss_fn: Callable | None = None,
             device: torch.device | str = "cpu", metrics: dict[str, Metric] | None = None,
             amp_dtype: torch.dtype | None = None) -> dict[str, float]:
    """Mean loss and metrics of `model` over `loader` (batches of `(inputs, targets)`).

    Returns `{"loss": float, <metric name>: float, ...}` ("loss" only with a `loss_fn`).
    The model is put in eval mode and back in its previous mode afterwards.
    """
    sums, seen = evaluate_sums(model, loader, loss_fn, device, metrics, amp_dtype)
    return {name: total / max(seen, 1) for name, total in sums.items()}


@torch.no_grad()
def evaluate_sums(model: nn.Module, loader: Iterable, loss_fn: Callable | None = None,
                  device: torch.device | str = "cpu", metrics: dict[str, Metric] | None = None,
                  amp_dtype: torch.dtype | None = None) -> tuple[dict[str, float], int]:
    """({name: sum over examples of the batch means × batch size}, examples seen): what
    `evaluate` divides, and what processes that each evaluated a part add up."""
    device = torch.device(device)
    metrics = DEFAULT_METRICS if metrics is None else metrics
    was_training = model.training
    model.eval()
    names = (["loss"] if loss_fn else []) + list(metrics)
    sums = {name: torch.zeros((), dtype=torch.float64, device=device) for name in names}
    seen = 0
    try:
        for batch in loader:
            inputs, targets = to_device(batch, device)
            with autocast_context(device, amp_dtype):
                outputs = model(inputs)
            outputs = outputs.float()
            n = len(targets)
            if loss_fn is not None:   # kept on the device: one synchronisation at the end, not per batch
                sums["loss"] += loss_fn(outputs, targets).detach().double() * n
            for name, fn in metrics.items():
                sums[name] += torch.as_tensor(fn(outputs, targets), device=device).double() * n
            seen += n
    finally:
        model.train(was_training)
    return {name: float(total) for name, total in sums.items()}, seen


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable, device: torch.device | str = "cpu"
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """All outputs and targets of `loader`, concatenated on the CPU: (`[N, C]` float32, `[N]`)."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    outputs, targets = [], []
    try:
        for batch in loader:
            inputs, target = to_device(batch, device)
            outputs.append(model(inputs).float().cpu())
            targets.append(target.cpu())
    finally:
        model.train(was_training)
    return torch.cat(outputs), torch.cat(targets)
