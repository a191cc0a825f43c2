"""Helpers the tests use to look at PyTorch objects (given; you do not need to call them).

The grader runs your code in a separate, sandboxed process and only plain values (numbers,
strings, lists, dicts, NumPy arrays) travel back from it; a model, tensor or optimizer stays
where it was made and the tests see a handle to it. These functions run beside your code and
turn such objects into plain values, or build small test objects (models, loaders) there.
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import tempfile
from pathlib import Path

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


def tensors(value):
    """Arrays -> float32 tensors (int arrays stay integer), recursively."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.astype(np.float32) if value.dtype.kind == "f" else value)
    if isinstance(value, (list, tuple)):
        return type(value)(tensors(v) for v in value)
    return value


def call_plain(module: str, function: str, *args, **kwargs):
    """Call module.function(*args, **kwargs) and return the result with tensors as arrays."""
    return plain(getattr(importlib.import_module(module), function)(*args, **kwargs))


# ------------------------------------------------------------------ models

def num_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def state_dict(model: nn.Module) -> dict:
    """name -> array of every parameter and buffer."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def load_state_dict(model: nn.Module, arrays: dict) -> None:
    model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in arrays.items()})


def get_parameters(model: nn.Module) -> list[np.ndarray]:
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


def rnn_config(model: nn.Module) -> dict:
    """What model.rnn is: its class name and constructor settings."""
    rnn = model.rnn
    return {"type": type(rnn).__name__, "input_size": rnn.input_size, "hidden_size": rnn.hidden_size,
            "num_layers": rnn.num_layers, "dropout": float(rnn.dropout), "batch_first": bool(rnn.batch_first),
            "fc": [model.fc.in_features, model.fc.out_features],
            "dropout_layer": float(model.dropout.p) if isinstance(getattr(model, "dropout", None), nn.Dropout)
            else None}


def char_forward(model: nn.Module, x, hidden=None, train: bool = False, seed: int = 0):
    """model(x, hidden) for a one-hot array x [B, T, V]; hidden: arrays (h, c) or h, or None
    for model.init_hidden(B). Returns (out, hidden) as arrays."""
    was = model.training
    model.train(train)
    torch.manual_seed(seed)
    try:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(x, dtype=np.float32))
            h = model.init_hidden(x.shape[0]) if hidden is None else tensors(hidden)
            return plain(model(x, h))
    finally:
        model.train(was)


def init_hidden(model: nn.Module, batch_size: int):
    return plain(model.init_hidden(batch_size))


def forward(model: nn.Module, x, train: bool = False, seed: int = 0) -> np.ndarray:
    """model(x) for a float32 array x, in eval mode unless `train`, without gradients."""
    was = model.training
    model.train(train)
    torch.manual_seed(seed)
    try:
        with torch.no_grad():
            return plain(model(torch.as_tensor(np.asarray(x, dtype=np.float32))))
    finally:
        model.train(was)


def forward_backward(model: nn.Module, x, weights) -> dict:
    """Gradients of sum(weights * model(x)) with respect to x and every parameter (eval mode)."""
    model.eval()
    model.zero_grad()
    xt = torch.tensor(np.asarray(x, dtype=np.float32), requires_grad=True)
    out = model(xt)
    (out * torch.as_tensor(np.asarray(weights, dtype=np.float32)).reshape(out.shape)).sum().backward()
    grads = {name: p.grad.detach().numpy().copy() for name, p in model.named_parameters() if p.grad is not None}
    return {"x": xt.grad.detach().numpy(), "params": grads}


# ------------------------------------------------------------------ losses

def loss_value(loss_func, scores, y) -> float:
    return float(loss_func(torch.as_tensor(np.asarray(scores, dtype=np.float32)),
                           torch.as_tensor(np.asarray(y, dtype=np.float32))))


def loss_grad(loss_func, scores, y) -> np.ndarray:
    """d loss / d scores."""
    s = torch.tensor(np.asarray(scores, dtype=np.float32), requires_grad=True)
    loss_func(s, torch.as_tensor(np.asarray(y, dtype=np.float32))).backward()
    return s.grad.detach().numpy()


class ReferenceLoss:
    """BCE with logits (not yours), for testing training code on its own."""

    def __call__(self, scores, y):
        return nn.functional.binary_cross_entropy_with_logits(scores.reshape(y.shape), y)


def reference_loss() -> ReferenceLoss:
    return ReferenceLoss()


# ------------------------------------------------------------------ training

def tiny_tagger(C: int = 2, hidden: int = 8, seed: int = 0) -> nn.Module:
    """[B, L, C] -> logits [B, L, 1] with two Linear layers (not yours)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(C, hidden), nn.Tanh(), nn.Linear(hidden, 1))


class TripleLoader:
    """Batches (x, y, where) in order, like a DataLoader over an ECGDataset."""

    def __init__(self, x, y, batch_size: int):
        self.x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        self.y = torch.as_tensor(np.asarray(y, dtype=np.float32))
        self.batch_size = batch_size

    def __iter__(self):
        for i in range(0, len(self.x), self.batch_size):
            yield self.x[i:i + self.batch_size], self.y[i:i + self.batch_size], torch.arange(i, i + len(self.x[i:i + self.batch_size]))

    def __len__(self):
        return (len(self.x) + self.batch_size - 1) // self.batch_size


def triple_loader(x, y, batch_size: int) -> TripleLoader:
    return TripleLoader(x, y, batch_size)


def sgd(model: nn.Module, lr: float, momentum: float = 0.0):
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def adamw(model: nn.Module, lr: float, weight_decay: float = 0.0):
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


# ------------------------------------------------------------------ datasets and files

def dataset_length(dataset) -> int:
    return int(len(dataset))


def dataset_item(dataset, idx: int):
    return plain(dataset[idx])


def dataset_attribute(dataset, name: str):
    return plain(getattr(dataset, name))


def batch_from_loader(dataset, batch_size: int, indices: list):
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=list(indices))
    return plain(next(iter(loader)))


class Scale:
    """A test transform: 3 * trigger (as a NumPy array)."""

    def __call__(self, trigger):
        if not isinstance(trigger, np.ndarray):
            raise TypeError(f"the transform expected a NumPy array, got {type(trigger).__name__}")
        return 3 * trigger


def scale_transform() -> Scale:
    return Scale()


def write_text_files(contents: list[str]) -> list[str]:
    """Write each string to its own UTF-8 file in a new temporary folder; return the paths."""
    folder = Path(tempfile.mkdtemp(prefix="a4-text-"))
    atexit.register(shutil.rmtree, folder, True)   # removed when the test process ends
    paths = []
    for i, text in enumerate(contents):
        path = folder / f"part{i}.txt"
        path.write_bytes(text.encode("utf-8"))
        paths.append(str(path))
    return paths
