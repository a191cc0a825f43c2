"""Optimizers for NumPy modules, with torch.optim's update rules (same defaults, same order of
operations), so a run can be compared step by step with PyTorch.

An optimizer takes what to update in one of three forms:

    SGD(model, lr=0.1)                      # a Module (all of its parameters, children included)
    SGD([layer1, layer2], lr=0.1)           # a list of modules
    SGD([(w, dw), (b, db)], lr=0.1)         # explicit (param, grad) array pairs

Parameters are updated **in place** (`module.params[key]` keeps its identity), and for modules
the gradient is read from `module.grads[key]` at each `step()`, so backward may replace the grad
arrays freely. A parameter without a gradient is skipped, as torch skips `grad is None`.

`lr` (and `momentum` / `betas`) are plain attributes: schedules change them between steps.
"""

from __future__ import annotations

import math

import numpy as np

from dlcc.errors import ConfigError
from dlcc.scratch.base import Module


class _Slot:
    """One trainable array: where to find the parameter and its gradient."""

    __slots__ = ("name", "module", "key", "param_array", "grad_array")

    def __init__(self, name, module=None, key=None, param=None, grad=None):
        self.name, self.module, self.key = name, module, key
        self.param_array, self.grad_array = param, grad

    def param(self) -> np.ndarray:
        return self.module.params[self.key] if self.module is not None else self.param_array

    def grad(self) -> np.ndarray | None:
        return self.module.grads.get(self.key) if self.module is not None else self.grad_array


def _collect(params) -> list[_Slot]:
    if isinstance(params, Module):
        params = [params]
    slots: list[_Slot] = []
    seen: set[int] = set()
    for i, item in enumerate(params):
        if isinstance(item, Module):
            prefix = f"{i}." if len(params) > 1 else ""
            for name, module, key in item.named_parameters(prefix):
                if id(module.params[key]) not in seen:   # a layer listed twice is updated once
                    seen.add(id(module.params[key]))
                    slots.append(_Slot(name, module=module, key=key))
        elif isinstance(item, (tuple, list)) and len(item) == 2 and all(
                isinstance(a, np.ndarray) for a in item):
            param, grad = item
            if param.shape != grad.shape:
                raise ConfigError(f"optimizer: pair {i} has param shape {param.shape} but grad "
                                  f"shape {grad.shape}", fix="pass (param, grad) arrays of equal shape")
            if id(param) not in seen:
                seen.add(id(param))
                slots.append(_Slot(f"param{i}", param=param, grad=grad))
        else:
            raise ConfigError(f"optimizer: item {i} is a {type(item).__name__}; expected a Module "
                              "or a (param, grad) pair of NumPy arrays",
                              fix="pass a model, a list of layers, or [(w, dw), (b, db), ...]")
    if not slots:
        raise ConfigError("optimizer: got no parameters to optimize",
                          fix="pass the model (or its layers) after building it")
    return slots


def _check(name: str, value: float, low: float = 0.0, high: float | None = None,
           high_open: bool = False) -> float:
    value = float(value)
    bad = not value >= low or (high is not None and (value >= high if high_open else value > high))
    if bad:
        upper = "" if high is None else f" and {'<' if high_open else '<='} {high}"
        raise ConfigError(f"optimizer: {name} must be >= {low}{upper}, got {value!r}")
    return value


class Optimizer:
    """Base class: parameter bookkeeping, per-parameter state, zero_grad and state_dict.

    Subclasses implement `_update(param, grad, state)` for one array, in place.
    """

    hyperparameters: tuple[str, ...] = ("lr",)

    def __init__(self, params, lr: float) -> None:
        self.slots = _collect(params)
        self.lr = _check("lr", lr)
        self.state: list[dict] = [{} for _ in self.slots]

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        for slot, state in zip(self.slots, self.state):
            grad = slot.grad()
            if grad is not None:
                self._update(slot.param(), grad, state)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Set every gradient to zero in place (module grads that do not exist yet are created)."""
        for slot in self.slots:
            grad = slot.grad()
            if grad is not None:
                grad[...] = 0
            elif slot.module is not None:
                slot.module.grads[slot.key] = np.zeros_like(slot.param())

    @property
    def param_names(self) -> list[str]:
        return [slot.name for slot in self.slots]

    def state_dict(self) -> dict:
        """Hyperparameters and copies of the per-parameter state (momentum buffers, moments...)."""
        return {"hyperparameters": {k: getattr(self, k) for k in self.hyperparameters},
                "state": [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                          for s in self.state]}

    def load_state_dict(self, state: dict) -> None:
        if len(state["state"]) != len(self.slots):
            raise ConfigError(f"{type(self).__name__}.load_state_dict: saved state has "
                              f"{len(state['state'])} parameters, this optimizer has {len(self.slots)}",
                              fix="build the optimizer over the same model as the saved one")
        for key, value in state["hyperparameters"].items():
            setattr(self, key, tuple(value) if isinstance(value, list) else value)
        self.state = [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                      for s in state["state"]]

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.hyperparameters)
        return f"{type(self).__name__}({len(self.slots)} arrays, {hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD:

        g = grad + weight_decay * p
        buf = g (first step)  or  momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov)  or  buf
        p -= lr * g
    """

    hyperparameters = ("lr", "momentum", "dampening", "weight_decay", "nesterov")

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr)
        self.momentum = _check("momentum", momentum)
        self.dampening = float(dampening)
        self.weight_decay = _check("weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ConfigError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0, got "
                              f"momentum={momentum}, dampening={dampening}")

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += (1.0 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class AdaGrad(Optimizer):
    """AdaGrad, as torch.optim.Adagrad: the step size shrinks with the running sum of squared
    gradients, `p -= lr / (1 + (t-1) lr_decay) * g / (sqrt(sum g^2) + eps)`."""

    hyperparameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.lr_decay = _check("lr_decay", lr_decay)
        self.weight_decay = _check("weight_decay", weight_decay)
        self.initial_accumulator_value = _check("initial_accumulator_value", initial_accumulator_value)
        self.eps = _check("eps", eps)

    def _update(self, p, g, state):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, self.initial_accumulator_value)
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        clr = self.lr / (1.0 + (state["step"] - 1) * self.lr_decay)
        state["sum"] += g * g
        p -= clr * (g / (np.sqrt(state["sum"]) + self.eps))


Adagrad = AdaGrad  # torch's spelling


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop (alpha = smoothing constant; eps added outside the sqrt):

        v = alpha v + (1 - alpha) g^2;   centered: m = alpha m + (1 - alpha) g, v_hat = v - m^2
        d = g / (sqrt(v_hat) + eps);     momentum: buf = momentum buf + d, p -= lr buf; else p -= lr d
    """

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, lr)
        self.alpha = _check("alpha", alpha)
        self.eps = _check("eps", eps)
        self.weight_decay = _check("weight_decay", weight_decay)
        self.momentum = _check("momentum", momentum)
        self.centered = bool(centered)

    def _update(self, p, g, state):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            if self.momentum:
                state["momentum_buffer"] = np.zeros_like(p)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        v = state["square_avg"]
        v *= self.alpha
        v += (1.0 - self.alpha) * g * g
        if self.centered:
            m = state["grad_avg"]
            m += (1.0 - self.alpha) * (g - m)
            avg = np.sqrt(v - m * m) + self.eps
        else:
            avg = np.sqrt(v) + self.eps
        if self.momentum:
            buf = state.setdefault("momentum_buffer", np.zeros_like(p))
            buf *= self.momentum
            buf += g / avg
            p -= self.lr * buf
        else:
            p -= self.lr * (g / avg)


class Adam(Optimizer):
    """Adam, as torch.optim.Adam (L2 `weight_decay` added to the gradient; `amsgrad` optional):

        m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
        p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad")
    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        self.betas = (_check("betas[0]", b1, 0.0, 1.0, high_open=True),
                      _check("betas[1]", b2, 0.0, 1.0, high_open=True))
        self.eps = _check("eps", eps)
        self.weight_decay = _check("weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)

    def _update(self, p, g, state):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        b1, b2 = self.betas
        if self.weight_decay:
            if self.decoupled:
                p *= 1.0 - self.lr * self.weight_decay   # AdamW: decay the weights directly
            else:
                g = g + self.weight_decay * p            # Adam: L2 term in the gradient
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1.0 - b1) * (g - m)
        v *= b2
        v += (1.0 - b2) * g * g
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = self.lr / (1.0 - b1 ** t)
        denom = np.sqrt(v) / math.sqrt(1.0 - b2 ** t) + self.eps
        p -= step_size * (m / denom)


class AdamW(Adam):
    """AdamW, as torch.optim.AdamW: Adam with decoupled weight decay, `p *= 1 - lr * weight_decay`
    before the Adam step (default weight_decay=0.01, like torch)."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


__all__ = ["Optimizer", "SGD", "AdaGrad", "Adagrad", "RMSprop", "Adam", "AdamW"]
