"""Helpers the tests use to look at PyTorch objects (given; you do not need to call them).

The grader runs your code in a separate, sandboxed process and only plain values (numbers,
strings, lists, dicts, NumPy arrays) travel back from it; a model, tensor or optimizer stays
where it was made and the tests see a handle to it. These functions run beside your code and
turn such objects into plain values, or train them briefly on small data.
"""

from __future__ import annotations

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


def _t(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


# ------------------------------------------------------------------ models

def num_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def state_shapes(model: nn.Module) -> list:
    """[name, shape] of every parameter and buffer, in the order they were created."""
    return [[k, list(v.shape)] for k, v in model.state_dict().items()]


def load_in_order(model: nn.Module, arrays: list) -> None:
    """Copy `arrays` into the model's parameters and buffers in creation order; the shapes must match."""
    state = model.state_dict()
    if len(state) != len(arrays):
        raise ValueError(f"the model has {len(state)} parameters and buffers, the test gives {len(arrays)}; "
                         "check which layers you created (and that each is created once)")
    new = {}
    for i, ((name, value), array) in enumerate(zip(state.items(), arrays)):
        array = np.asarray(array)
        if tuple(value.shape) != array.shape:
            raise ValueError(f"entry {i} of the model's state ({name}) has shape {tuple(value.shape)}, but the "
                             f"test expects {array.shape} there: create the layers in __init__ in the order "
                             "forward uses them")
        new[name] = torch.as_tensor(array).to(value.dtype)
    model.load_state_dict(new)


def random_state(model: nn.Module, seed: int, scale: float = 0.3) -> list:
    """Random values for every entry of the state (BatchNorm scales and variances in [0.5, 1.5],
    counters 0)."""
    rng = np.random.default_rng(seed)
    out = []
    for name, v in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            out.append(np.zeros((), np.int64))
        elif name.endswith("running_var") or (name.endswith("weight") and v.ndim == 1):
            out.append(rng.uniform(0.5, 1.5, size=tuple(v.shape)).astype(np.float32))   # BN scales and variances
        else:
            out.append(rng.normal(scale=scale, size=tuple(v.shape)).astype(np.float32))
    return out


def forward(model: nn.Module, *xs, train: bool = False) -> np.ndarray:
    """model(*xs) for float32 arrays, in eval mode unless `train` (BatchNorm then uses batch
    statistics, and its running statistics are left unchanged), without gradients."""
    was = model.training
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    model.train(train)
    try:
        with torch.no_grad():
            return plain(model(*[_t(x) for x in xs]))
    finally:
        model.load_state_dict(saved)
        model.train(was)


def forward_backward(model: nn.Module, x, weights, train: bool = False) -> dict:
    """Gradients of sum(weights * model(x)) with respect to x and every parameter (in
    creation order), as {"x": array, "params": [array or None, ...]}."""
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    model.train(train)
    model.zero_grad()
    xt = _t(x).requires_grad_(True)
    out = model(xt)
    (out * _t(weights).reshape(out.shape)).sum().backward()
    grads = [None if p.grad is None else p.grad.detach().numpy().copy() for p in model.parameters()]
    model.load_state_dict(saved)
    return {"x": xt.grad.detach().numpy(), "params": grads}


def layer_trace(model: nn.Module, *xs) -> list:
    """The layers (modules without children) in the order forward calls them, each as a dict:
    {"type": class name, ...settings} (kernel, stride, padding, groups, channels for Conv2d)."""
    calls = []

    def hook(module, inputs, output):
        info = {"type": type(module).__name__}
        if isinstance(module, nn.Conv2d):
            info.update(kernel=list(module.kernel_size), stride=list(module.stride),
                        padding=list(module.padding) if not isinstance(module.padding, str) else module.padding,
                        groups=module.groups, cin=module.in_channels, cout=module.out_channels,
                        bias=module.bias is not None)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            info.update(features=module.num_features)
        elif isinstance(module, nn.Linear):
            info.update(cin=module.in_features, cout=module.out_features)
        calls.append(info)

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        forward(model, *xs)
    finally:
        for h in handles:
            h.remove()
    return calls


def zero_convolutions(model: nn.Module) -> None:
    """Set every Conv2d weight and bias to zero."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.zero_()
                if m.bias is not None:
                    m.bias.zero_()


def type_name(obj) -> str:
    return type(obj).__name__


def optimizer_info(optimizer) -> dict:
    group = optimizer.param_groups[0]
    info = {"type": type(optimizer).__name__, "lr": float(group["lr"]),
            "weight_decay": float(group.get("weight_decay", 0.0)),
            "n_params": sum(p.numel() for g in optimizer.param_groups for p in g["params"])}
    if "betas" in group:
        info["betas"] = [float(b) for b in group["betas"]]
        info["eps"] = float(group["eps"])
    if "momentum" in group:
        info["momentum"] = float(group["momentum"])
    return info


def scheduler_info(scheduler) -> dict:
    info = {"type": type(scheduler).__name__}
    for key in ("step_size", "gamma"):
        if hasattr(scheduler, key):
            info[key] = float(getattr(scheduler, key))
    return info


# ------------------------------------------------------------------ losses and data

def loss_value(loss_func, logits, target) -> float:
    return float(loss_func(_t(logits), _t(target)))


def loss_grad(loss_func, logits, target) -> np.ndarray:
    s = _t(logits).requires_grad_(True)
    loss_func(s, _t(target)).backward()
    return s.grad.detach().numpy()


def call_plain(module: str, function: str, *args, **kwargs):
    """module.function(*args as float32 tensors, **kwargs), with tensors in the result as arrays."""
    import importlib

    return plain(getattr(importlib.import_module(module), function)(*[_t(a) for a in args], **kwargs))


def training_info(model_name: str, args: dict) -> dict:
    """What a3_cnn.make_training(model_name, Namespace(**args)) returns, as plain values."""
    from argparse import Namespace

    import a3_cnn

    model, loss_func, optimizer, scheduler = a3_cnn.make_training(model_name, Namespace(**args))
    return {"n_params": num_parameters(model), "loss": type(loss_func).__name__,
            "optimizer": optimizer_info(optimizer), "scheduler": scheduler_info(scheduler)}


def dataset_length(dataset) -> int:
    return int(len(dataset))


def dataset_items(dataset, indices: list, seed: int = 0) -> list:
    """[(image, mask), ...] for `indices`, after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return [plain(dataset[int(i)]) for i in indices]


# ------------------------------------------------------------------ short trainings

class _BCEWithLogits:
    def __call__(self, logits, target):
        return nn.functional.binary_cross_entropy_with_logits(logits, target)


def bce_loss():
    """Plain BCE on logits (not yours), to train a U-Net independently of losses.py."""
    return _BCEWithLogits()


def tiny_segmenter(channels: int = 8, seed: int = 0) -> nn.Module:
    """A small fully convolutional net (not yours), to test a loss independently of the U-Net."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(channels, channels, 3, padding=2, dilation=2), nn.ReLU(),
                         nn.Conv2d(channels, 1, 3, padding=1))


def _normalise(x: np.ndarray) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x)).permute(0, 3, 1, 2).float() / 255.0
    return (t - 0.47) / 0.25


def train_classifier(model: nn.Module, x, y, steps: int, batch_size: int = 64, lr: float = 2e-3,
                     seed: int = 0) -> dict:
    """Adam on uint8 images x [N, 32, 32, 3] with labels y for `steps` batches (random, with a
    random horizontal flip); returns {"losses": [...]}. Single-threaded, deterministic."""
    torch.manual_seed(seed)
    xt, yt = _normalise(x), torch.as_tensor(np.asarray(y)).long()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(xt), (batch_size,), generator=g)
        xb = xt[idx]
        flip = (torch.rand(batch_size, generator=g) < 0.5)[:, None, None, None]
        xb = torch.where(flip, xb.flip(-1), xb)
        loss = nn.functional.cross_entropy(model(xb), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"losses": losses}


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches) -> None:
    """Replace BatchNorm running statistics by their exact averages over `batches` (after a
    short training they still remember the random start)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None            # cumulative average
    model.train()
    for xb in batches:
        model(xb)
    for m in norms:
        m.momentum = 0.1


@torch.no_grad()
def classifier_accuracy(model: nn.Module, x, y, calibrate=None) -> float:
    """Accuracy on uint8 images x [N, 32, 32, 3]; with `calibrate` (uint8 images), BatchNorm
    statistics are first recomputed on them."""
    if calibrate is not None:
        xc = _normalise(calibrate)
        recalibrate_batchnorm(model, [xc[i:i + 200] for i in range(0, len(xc), 200)])
    model.eval()
    pred = torch.cat([model(_normalise(x[i:i + 250])).argmax(1) for i in range(0, len(x), 250)])
    return float((pred == torch.as_tensor(np.asarray(y))).float().mean())


def train_segmenter(model: nn.Module, loss_func, images, masks, steps: int, batch_size: int = 8,
                    lr: float = 2e-3, seed: int = 0) -> dict:
    """Adam on images/masks float32 [N, 1, H, W] for `steps` random batches; {"losses": [...]}."""
    torch.manual_seed(seed)
    xt, mt = _t(images), _t(masks)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(xt), (batch_size,), generator=g)
        loss = loss_func(model(xt[idx]), mt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"losses": losses}


@torch.no_grad()
def segmenter_dice(model: nn.Module, images, masks) -> float:
    """Mean Dice of sigmoid(model(images)) >= 0.5 against masks (float32 [N, 1, H, W])."""
    model.eval()
    p = torch.sigmoid(model(_t(images))) >= 0.5
    t = _t(masks) >= 0.5
    inter = (p & t).flatten(1).sum(1).float()
    total = (p.flatten(1).sum(1) + t.flatten(1).sum(1)).float()
    return float(torch.where(total > 0, 2 * inter / total.clamp_min(1), torch.ones_like(total)).mean())
