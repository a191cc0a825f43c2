"""Helpers the tests use to look at PyTorch objects (given; you do not need to call them).

The grader runs your code in a separate, sandboxed process and only plain values (numbers,
strings, lists, dicts, NumPy arrays) travel back from it; a model, tensor or optimizer stays
where it was made and the tests see a handle to it. These functions run beside your code and
turn such objects into plain values, or build small test objects (models, loaders) there.
"""

from __future__ import annotations

import importlib

import numpy as np
import torch
from torch import nn


def plain(value):
    """Tensors -> NumPy arrays, recursively through tuples, lists and dicts."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def call_plain(module: str, function: str, *args, **kwargs):
    """Call module.function(*args, **kwargs) and return the result with tensors as arrays."""
    return plain(getattr(importlib.import_module(module), function)(*args, **kwargs))


# ------------------------------------------------------------------ models

def num_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def parameter_shapes(model: nn.Module) -> list[list[int]]:
    return [list(p.shape) for p in model.parameters()]


def get_parameters(model: nn.Module) -> list[np.ndarray]:
    """Every parameter as an array, in model.parameters() order."""
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


def get_parameter_list(model: nn.Module) -> list:
    """list(model.parameters()) (each stays beside your code; the tests pass them on)."""
    return list(model.parameters())


def set_parameters(model: nn.Module, arrays: list) -> None:
    """Copy arrays into model.parameters(), in order (shapes must match)."""
    params = list(model.parameters())
    if len(params) != len(arrays):
        raise ValueError(f"the model has {len(params)} parameter tensors, expected {len(arrays)}: "
                         f"{parameter_shapes(model)}")
    with torch.no_grad():
        for i, (p, a) in enumerate(zip(params, arrays)):
            if tuple(p.shape) != tuple(np.shape(a)):
                raise ValueError(f"parameter #{i} has shape {tuple(p.shape)}, expected {tuple(np.shape(a))}")
            p.copy_(torch.as_tensor(np.asarray(a), dtype=p.dtype))


def layer_types(model: nn.Module) -> list[str]:
    """Class names of the leaf modules, in order (e.g. ['Linear', 'ReLU', 'Linear'])."""
    return [type(m).__name__ for m in model.modules() if not list(m.children())]


def forward(model: nn.Module, x, train: bool = False) -> np.ndarray:
    """model(x) for a float32 array x, in eval mode unless `train`, without gradients."""
    was = model.training
    model.train(train)
    try:
        with torch.no_grad():
            return model(torch.as_tensor(np.asarray(x, dtype=np.float32))).detach().numpy()
    finally:
        model.train(was)


def accuracy(model: nn.Module, X_hwcn, Y) -> float:
    """Accuracy of `model` on images X [H, W, C, N] with labels Y [N]."""
    x = np.ascontiguousarray(np.transpose(np.asarray(X_hwcn, dtype=np.float32), (3, 2, 0, 1)))
    logits = forward(model, x)
    return float(np.mean(logits.argmax(axis=1) == np.asarray(Y)))


def split_accuracy(model: nn.Module, data: dict, split: str = "test") -> float:
    """Accuracy on data[split] for `data` as returned by util.load_data."""
    return accuracy(model, *data[split])


def reference_mlp(in_features: int, hidden: list, num_classes: int = 10, seed: int = 0) -> nn.Module:
    """A plain Flatten-Linear-ReLU-...-Linear model (not yours), for testing training code."""
    torch.manual_seed(seed)
    layers, n_in = [nn.Flatten()], in_features
    for h in hidden:
        layers += [nn.Linear(n_in, h), nn.ReLU()]
        n_in = h
    layers.append(nn.Linear(n_in, num_classes))
    return nn.Sequential(*layers)


def fit_reference(model: nn.Module, data: dict, epochs: int, lr: float, batch_size: int = 64, seed: int = 0) -> list:
    """Train `model` on data["train"] (X [H, W, C, N], Y [N]) with a plain SGD loop (not yours);
    returns the mean loss of each epoch."""
    torch.manual_seed(seed)
    X, Y = data["train"]
    x = torch.from_numpy(np.ascontiguousarray(np.transpose(np.asarray(X, dtype=np.float32), (3, 2, 0, 1))))
    y = torch.as_tensor(np.asarray(Y, dtype=np.int64))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    means = []
    model.train()
    for _ in range(epochs):
        order, total = torch.randperm(len(y)), 0.0
        for i in range(0, len(y), batch_size):
            idx = order[i:i + batch_size]
            batch_loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            batch_loss.backward()
            opt.step()
            total += batch_loss.item() * len(idx)
        means.append(total / len(y))
    return means


def make_loader(x, y, batch_size: int) -> torch.utils.data.DataLoader:
    """A DataLoader over arrays x (float32) and y (int64), in order, no shuffling."""
    ds = torch.utils.data.TensorDataset(torch.as_tensor(np.asarray(x, dtype=np.float32)),
                                        torch.as_tensor(np.asarray(y, dtype=np.int64)))
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=False)


def cross_entropy() -> nn.Module:
    return nn.CrossEntropyLoss()


def sgd(model: nn.Module, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)


def mean_loss(model: nn.Module, x, y) -> float:
    """Mean cross-entropy of model(x) against y (eval mode)."""
    logits = torch.as_tensor(forward(model, x))
    return float(nn.functional.cross_entropy(logits, torch.as_tensor(np.asarray(y, dtype=np.int64))))


# ------------------------------------------------------------------ datasets

def dataset_length(dataset) -> int:
    return int(len(dataset))


def dataset_item(dataset, idx: int):
    """dataset[idx] with tensors as arrays."""
    return plain(dataset[idx])


def dataset_attribute(dataset, name: str):
    return plain(getattr(dataset, name))


def item_types(dataset, idx: int) -> list[str]:
    """What dataset[idx] returns, as type names (and the image's dtype when it has one)."""
    image, label = dataset[idx]
    return [type(image).__name__, str(getattr(image, "dtype", "")), type(label).__name__]


class DoubleHWC:
    """A test transform: expects one [H, W, C] array; returns 2 * image as a [C, H, W] tensor."""

    def __call__(self, image):
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"the transform expected an [H, W, C] image with C = 3, got shape {image.shape}")
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)) * 2)


def double_hwc_transform() -> DoubleHWC:
    return DoubleHWC()


def batch_from_loader(dataset, batch_size: int, indices: list):
    """One batch of a DataLoader over `dataset` (the given indices, in order), as arrays."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=list(indices))
    return plain(next(iter(loader)))


# ------------------------------------------------------------------ optimizers and schedules

def optimizer_summary(optimizer) -> dict:
    """Type and hyper-parameters of the first parameter group."""
    group = optimizer.param_groups[0]
    out = {"type": type(optimizer).__name__}
    for key in ("lr", "momentum", "weight_decay", "eps", "nesterov"):
        if key in group:
            out[key] = group[key] if not isinstance(group[key], torch.Tensor) else float(group[key])
    if "betas" in group:
        out["betas"] = [float(b) for b in group["betas"]]
    return out


def scheduler_trace(scheduler, opt, steps: int) -> dict:
    """The learning rate (and momentum or beta1) before each of `steps` scheduler steps.

    The optimizer is stepped too (without gradients it changes nothing), as in training."""
    lrs, momenta = [], []
    for _ in range(steps):
        group = opt.param_groups[0]
        lrs.append(float(group["lr"]))
        momenta.append(float(group["momentum"]) if "momentum" in group
                       else float(group["betas"][0]) if "betas" in group else float("nan"))
        opt.step()
        scheduler.step()
    return {"lr": lrs, "momentum": momenta, "type": type(scheduler).__name__}


# ------------------------------------------------------------------ tracking

class RecordingTracker:
    """An in-memory tracker with dlcc.track's interface, for tests."""

    def __init__(self):
        self.calls = []

    def log_params(self, params):
        self.calls.append({"call": "log_params", "params": dict(params)})

    def log_metrics(self, metrics, step):
        self.calls.append({"call": "log_metrics", "metrics": {k: float(v) for k, v in metrics.items()},
                           "step": int(step)})

    def log_figure(self, name, figure_or_png_path, step):
        self.calls.append({"call": "log_figure", "name": str(name), "step": int(step)})

    def close(self):
        self.calls.append({"call": "close"})


def recording_tracker() -> RecordingTracker:
    return RecordingTracker()


def tracker_calls(tracker: RecordingTracker) -> list:
    return list(tracker.calls)
