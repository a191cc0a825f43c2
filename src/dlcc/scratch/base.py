"""The base class of every NumPy layer, and the input checks they share.

A `Module` holds its trainable arrays in `params` and their gradients in `grads` (same keys,
same shapes). Containers (Sequential, multi-layer RNNs) hold child modules in `children`.
Optimizers update `params[k]` in place, so references taken by a layer stay valid.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dlcc.errors import InputError


class Module:
    """Base for NumPy layers.

    Subclasses set `self.params` (name -> array) in `__init__` and implement `forward` and
    `backward`. `backward` must fill `self.grads` for every key of `self.params`.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.children: list[Module] = []
        self.training = True

    # --- the contract -------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- modes and bookkeeping ----------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        self.training = mode
        for child in self.children:
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def modules(self) -> Iterator[Module]:
        """This module and all descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.modules()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Module, str]]:
        """Yield (dotted name, owning module, key) for every trainable array.

        Dotted names match torch's `state_dict` keys for the same architecture, e.g. "0.weight".
        """
        for key in self.params:
            yield (f"{prefix}{key}", self, key)
        for i, child in enumerate(self.children):
            yield from child.named_parameters(f"{prefix}{self.child_name(i)}.")

    def child_name(self, index: int) -> str:
        """Name of child `index` in dotted parameter names (torch uses the index for Sequential)."""
        return str(index)

    def zero_grad(self) -> None:
        for module in self.modules():
            for key, value in module.params.items():
                module.grads[key] = np.zeros_like(value)

    def num_parameters(self) -> int:
        return int(sum(m.params[k].size for _, m, k in self.named_parameters()))

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all parameters (and buffers), keyed like torch's state_dict."""
        state = {name: m.params[k].copy() for name, m, k in self.named_parameters()}
        state.update(self.buffers_dict())
        return state

    def buffers_dict(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Non-trainable state such as BatchNorm running statistics, keyed like torch."""
        out = {f"{prefix}{k}": v.copy() for k, v in getattr(self, "buffers", {}).items()}
        for i, child in enumerate(self.children):
            out.update(child.buffers_dict(f"{prefix}{self.child_name(i)}."))
        return out

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy arrays (NumPy or torch tensors) into this module's params and buffers, in place.

        Raises:
            InputError: a key is missing/unexpected (with strict) or a shape differs.
        """
        targets: dict[str, tuple[dict, str]] = {}
        for name, module, key in self.named_parameters():
            targets[name] = (module.params, key)
        for module_prefix, module in self._named_modules():
            for key in getattr(module, "buffers", {}):
                targets[f"{module_prefix}{key}"] = (module.buffers, key)
        given = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
        if strict:
            missing = sorted(set(targets) - set(given))
            extra = sorted(set(given) - set(targets))
            if missing or extra:
                raise InputError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                                 f"unexpected keys {extra}",
                                 fix="build the model with the same architecture as the checkpoint")
        for name, value in given.items():
            if name not in targets:
                continue
            store, key = targets[name]
            array = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
            if array.shape != store[key].shape:
                raise InputError(f"{type(self).__name__}.load_state_dict: {name} has shape "
                                 f"{array.shape}, expected {store[key].shape}")
            store[key][...] = array.astype(store[key].dtype, copy=False)

    def _named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for i, child in enumerate(self.children):
            yield from child._named_modules(f"{prefix}{self.child_name(i)}.")

    def astype(self, dtype) -> Module:
        """Cast all params (and buffers) to `dtype` in place of the old arrays; returns self."""
        for module in self.modules():
            for key in list(module.params):
                module.params[key] = module.params[key].astype(dtype)
            for key in list(getattr(module, "buffers", {})):
                module.buffers[key] = module.buffers[key].astype(dtype)
            module.grads = {}
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def check_array(layer: str, x, *, ndim: int | tuple[int, ...] | None = None,
                last_dim: int | None = None, dim: tuple[int, int] | None = None,
                finite: bool = True, name: str = "input") -> np.ndarray:
    """Validate an array handed to a layer or loss; raise `InputError` naming the layer.

    Args:
        layer: layer description for the message, e.g. "Linear(784 -> 256)".
        ndim: allowed number(s) of dimensions.
        last_dim: required size of the last axis.
        dim: (axis, size) that must hold, e.g. (1, in_channels).
        finite: reject NaN/inf.

    Returns:
        `x` as an ndarray (no copy when it already is one).
    """
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype.kind not in "fc":
        raise InputError(f"{layer}: {name} has dtype {x.dtype}, expected a floating-point array",
                         fix=f"convert it first, e.g. {name}.astype(np.float32)")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if x.ndim not in allowed:
            raise InputError(f"{layer}: {name} has shape {x.shape} ({x.ndim}-D), expected "
                             f"{' or '.join(str(a) for a in allowed)}-D")
    if last_dim is not None and x.shape[-1] != last_dim:
        raise InputError(f"{layer}: {name} has shape {x.shape}, expected last dimension {last_dim}")
    if dim is not None:
        axis, size = dim
        if x.ndim <= axis or x.shape[axis] != size:
            raise InputError(f"{layer}: {name} has shape {x.shape}, expected size {size} on axis {axis}")
    # Summing first is one cheap pass; the elementwise check runs only if the sum is off.
    if finite and not np.isfinite(x.sum()) and not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise InputError(f"{layer}: {name} of shape {x.shape} contains {bad} NaN/inf values",
                         fix="check the data and the previous layer; lower the learning rate if training diverged")
    return x
