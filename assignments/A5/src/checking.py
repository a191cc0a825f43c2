"""Helpers the tests use to look at PyTorch objects (given; you do not need to call them).

The grader runs your code in a separate, sandboxed process and only plain values (numbers,
strings, lists, dicts, NumPy arrays) travel back from it; a model, tensor or optimizer stays
where it was made and the tests see a handle to it. These functions run beside your code and
turn such objects into plain values, or build small test objects there.
"""

from __future__ import annotations

import importlib
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


def tensor(value, dtype=torch.float32) -> torch.Tensor:
    return torch.as_tensor(np.asarray(value)).to(dtype)


def call(module: str, function: str, *args, **kwargs):
    """module.function(*args, **kwargs) with array arguments as float32 tensors (int64 arrays as
    int64), the result with tensors as arrays."""
    args = [torch.as_tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    return plain(getattr(importlib.import_module(module), function)(*args, **kwargs))


# ------------------------------------------------------------------ models

def build(module: str, cls: str, seed: int = 0, **kwargs) -> nn.Module:
    """module.cls(**kwargs), built after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return getattr(importlib.import_module(module), cls)(**kwargs)


def num_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def shapes(model: nn.Module) -> dict:
    """name -> shape of every parameter and buffer."""
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def layer_types(model: nn.Module) -> dict:
    """name -> class name of every submodule (e.g. "conv.0": "PixelShuffle")."""
    return {name: type(m).__name__ for name, m in model.named_modules() if name}


def state_dict(model: nn.Module) -> dict:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def load_state_dict(model: nn.Module, arrays: dict) -> None:
    model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in arrays.items()})


def randomize(model: nn.Module, seed: int, scale: float = 0.2) -> dict:
    """Give every float parameter and buffer seeded normal values (running variances positive);
    returns them."""
    rng = np.random.default_rng(seed)
    state = {}
    for k, v in model.state_dict().items():
        if v.dtype.is_floating_point:
            a = rng.normal(scale=scale, size=tuple(v.shape)).astype(np.float32)
            state[k] = np.abs(a) + 0.5 if k.endswith("running_var") else a
        else:
            state[k] = v.numpy().copy()
    load_state_dict(model, state)
    return state


def forward(model: nn.Module, *inputs, train: bool = False) -> np.ndarray:
    """model(*inputs) without gradients, in eval mode unless `train`; float arrays become
    float32 tensors and int arrays int64."""
    was = model.training
    model.train(train)
    try:
        with torch.no_grad():
            return plain(model(*[torch.as_tensor(np.asarray(a)) for a in inputs]))
    finally:
        model.train(was)


# ------------------------------------------------------------------ losses

def loss_and_grads(module: str, function: str, *arrays, **kwargs) -> dict:
    """{"loss": value, "grads": [d loss / d array for each float array]} of module.function."""
    inputs = [torch.tensor(np.asarray(a), requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
    loss = getattr(importlib.import_module(module), function)(*inputs, **kwargs)
    floats = [t for t in inputs if t.requires_grad]
    grads = torch.autograd.grad(loss, floats, allow_unused=True)
    return {"loss": float(loss), "grads": [None if g is None else g.numpy() for g in grads]}


class LinearCritic(nn.Module):
    """critic(x) = <w, x> + b for images [B, C, H, W] (its gradient is w everywhere)."""

    def __init__(self, w, b: float = 0.0):
        super().__init__()
        self.w = nn.Parameter(torch.as_tensor(np.asarray(w, dtype=np.float32)))
        self.b = nn.Parameter(torch.tensor(float(b)))

    def forward(self, x):
        return (x.flatten(1) * self.w.flatten()).sum(1, keepdim=True) + self.b


class SquareCritic(nn.Module):
    """critic(x) = ||x||^2 / 2 per sample (its gradient is x)."""

    def forward(self, x):
        return 0.5 * (x.flatten(1) ** 2).sum(1, keepdim=True)


def penalty(module: str, critic: str, x_real, x_fake, seed: int = 0, w=None) -> dict:
    """{"value", "grad_w"}: the student's gradient_penalty with a known critic, after
    torch.manual_seed(seed); grad_w: the penalty's gradient with respect to a linear critic's w."""
    D = LinearCritic(w) if critic == "linear" else SquareCritic()
    torch.manual_seed(seed)
    value = getattr(importlib.import_module(module), "gradient_penalty")(D, tensor(x_real), tensor(x_fake))
    out = {"value": float(value), "grad_w": None}
    if critic == "linear":
        (g,) = torch.autograd.grad(value, D.w)
        out["grad_w"] = g.numpy()
    return out


# ------------------------------------------------------------------ training

class TinyG(nn.Module):
    """z [B, D] -> images [B, 1, 4, 4] (not the course's generator: a test double)."""

    def __init__(self, D: int = 3):
        super().__init__()
        self.D = D
        self.net = nn.Linear(D, 16)

    def forward(self, z, y=None):
        return torch.tanh(self.net(z)).view(-1, 1, 4, 4)


class TinyD(nn.Module):
    """images [B, 1, 4, 4] -> logits [B, 1]; counts its calls."""

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(16, 1)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.net(x.flatten(1))


def tiny_gan(seed: int = 0, D: int = 3):
    """(G, D, optim_G, optim_D): tiny networks with SGD(lr 0.1), built after manual_seed(seed)."""
    torch.manual_seed(seed)
    G, Dn = TinyG(D), TinyD()
    return G, Dn, torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(Dn.parameters(), lr=0.1)


def run_steps(module: str, function: str, parts, x_real, steps: int = 1, seed: int = 0, y=None, **kwargs) -> dict:
    """Call module.function(G, D, optim_G, optim_D, x_real[, y], **kwargs) `steps` times after
    torch.manual_seed(seed); returns {"losses", "G", "D" (state dicts), "D_calls"}."""
    G, Dn, og, od = parts
    fn = getattr(importlib.import_module(module), function)
    torch.manual_seed(seed)
    x = tensor(x_real)
    extra = (torch.as_tensor(np.asarray(y)).long(),) if y is not None else ()
    losses = [list(fn(G, Dn, og, od, x, *extra, **kwargs)) for _ in range(steps)]
    return {"losses": losses, "G": state_dict(G), "D": state_dict(Dn), "D_calls": Dn.calls}


def train_gan_on_mnist(steps: int = 150, n: int = 5000, seed: int = 0, batch_size: int = 64) -> dict:
    """Train the student's Generator/Discriminator with their train_step on MNIST (lr 1e-3) and
    return the Fréchet distance of 500 samples to 500 test images before and after, and the
    same for 500 training images (the floor)."""
    import a5_gan
    import gan
    import util

    torch.manual_seed(seed)
    G, D = gan.Generator(), gan.Discriminator()
    og, od = a5_gan.make_optimizers(G, D, 1e-3)
    loader = util.mnist_loader(batch_size, n, seed)
    z = torch.randn(500, G.D)
    test, _ = util.load_mnist("test", 500)
    before = util.frechet_distance(a5_gan.sample(G, z), test)
    done = 0
    while done < steps:
        for x, _ in loader:
            a5_gan.train_step(G, D, og, od, x, "gan", 1)
            done += 1
            if done == steps:
                break
    after = util.frechet_distance(a5_gan.sample(G, z), test)
    train, _ = util.load_mnist("train", 500)
    return {"before": before, "after": after, "floor": util.frechet_distance(train, test)}


# ------------------------------------------------------------------ attacks, saliency, export

class TinyClassifier(nn.Module):
    """images [B, 1, 4, 4] -> logits [B, 3] (a test double with known weights)."""

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))

    def forward(self, x):
        return self.net(x)


def tiny_classifier(seed: int = 0) -> TinyClassifier:
    return TinyClassifier(seed)


def loader(x, y, batch_size: int):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(tensor(x), torch.as_tensor(np.asarray(y)).long()),
                                       batch_size=batch_size)


def cross_entropy():
    return nn.CrossEntropyLoss()


def sum_of_squares_loss():
    """loss(outputs, targets) = sum((outputs - targets)^2): a loss with a known gradient."""
    return lambda out, t: ((out - t) ** 2).sum()


def tiny_cnn(seed: int = 0) -> nn.Module:
    """Conv -> BatchNorm (random running statistics) -> ReLU -> Dropout(0.5) -> Linear, for
    images [B, 1, 6, 6]: its eval-mode and training-mode outputs differ."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 3))
    randomize(model, seed)
    return model


class Branchy(nn.Module):
    """Data-dependent control flow: doubles inputs whose sum is positive, negates the others."""

    def forward(self, x):
        if x.sum() > 0:
            return 2 * x
        return -x


def branchy() -> Branchy:
    return Branchy()


def torchscript_round_trip(module: str, model: nn.Module, example, x, method: str) -> dict:
    """Convert with the student's run_model_conversion into a temporary file, run it with their
    run_model_inference; returns {"out", "reference", "bytes", "loads_alone"} where loads_alone
    says torch.jit.load can read the file by itself."""
    m = importlib.import_module(module)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(m.run_model_conversion(model, tensor(example), Path(tmp) / "model.pts", method))
        out = m.run_model_inference(path, tensor(x))
        loads_alone = isinstance(torch.jit.load(str(path)), torch.jit.ScriptModule)
        size = path.stat().st_size
    with torch.no_grad():
        reference = model.eval()(tensor(x))
    return {"out": plain(out), "reference": plain(reference), "bytes": size, "loads_alone": loads_alone}
