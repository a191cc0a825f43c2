"""Sequential: run child layers in order; backward runs them in reverse."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.base import Module


class Sequential(Module):
    """y = layer_k(... layer_1(layer_0(x))).

    Children are named by index, so `named_parameters` and `state_dict` keys ("0.weight",
    "2.bias", ...) equal those of a torch.nn.Sequential with the same layers, and
    `load_state_dict(torch_model.state_dict())` copies the torch weights in.
    An InputError raised inside a child is re-raised with the child's index prepended.
    """

    can_skip_input_grad = True

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ConfigError(f"Sequential: item {i} is a {type(layer).__name__}, expected a "
                                  "dlcc.scratch layer", fix="pass layer objects, e.g. Linear(784, 10)")
        self.children = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for i, layer in enumerate(self.children):
            try:
                x = layer.forward(x)
            except InputError as err:
                raise InputError(f"Sequential layer {i}: {err.message}", fix=err.fix) from err
        return x

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Gradient w.r.t. the input, or None with input_grad=False: then layers in front of the
        first trainable one are skipped and that one skips its dx (as torch does for data)."""
        first = 0 if input_grad else self._first_trainable()
        for i in range(len(self.children) - 1, first - 1, -1):
            layer = self.children[i]
            skip = not input_grad and i == first and getattr(layer, "can_skip_input_grad", False)
            try:
                dy = layer.backward(dy, input_grad=False) if skip else layer.backward(dy)
            except InputError as err:
                raise InputError(f"Sequential layer {i}: {err.message}", fix=err.fix) from err
        return dy if input_grad else None

    def _first_trainable(self) -> int:
        for i, layer in enumerate(self.children):
            if any(m.params for m in layer.modules()):
                return i
        return len(self.children)

    def append(self, layer: Module) -> Sequential:
        self.children.append(layer)
        return self

    def __getitem__(self, index: int) -> Module:
        return self.children[index]

    def __len__(self) -> int:
        return len(self.children)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.children)

    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.children)]
        return "Sequential(\n" + "\n".join(lines) + "\n)" if lines else "Sequential()"
