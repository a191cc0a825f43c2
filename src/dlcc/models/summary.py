"""A layer table for any `nn.Module`, built with forward hooks: one row per layer call.

`summarize(model, (3, 32, 32))` runs one forward pass on a zero batch of size 1 (in eval mode,
without gradients) and records, for every leaf module (and every module holding parameters of
its own), its qualified name, type, output shape and parameter count. Modules called twice
(a shared ReLU, a reused upsampler) get a row per call; their parameters are counted once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: str
    params: int


@dataclass
class Summary:
    rows: list[LayerRow]
    input_shape: tuple[int, ...]
    output_shape: str
    total_params: int
    trainable_params: int
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"input_shape": list(self.input_shape), "output_shape": self.output_shape,
                "total_params": self.total_params, "trainable_params": self.trainable_params,
                "layers": [row.__dict__ for row in self.rows]}

    def table(self) -> str:
        """The summary as fixed-width text."""
        headers = ("layer", "type", "output shape", "params")
        cells = [(r.name, r.kind, r.output_shape, f"{r.params:,}") for r in self.rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)]
        line = lambda c: "  ".join(  # noqa: E731 - one-line formatter
            (s.rjust(w) if i == 3 else s.ljust(w)) for i, (s, w) in enumerate(zip(c, widths))).rstrip()
        out = [line(headers), line(tuple("-" * w for w in widths))]
        out += [line(c) for c in cells]
        out.append(line(tuple("-" * w for w in widths)))
        out.append(f"input {list(self.input_shape)} -> output {self.output_shape}")
        out.append(f"total params: {self.total_params:,}   trainable: {self.trainable_params:,}")
        return "\n".join(out)


def _shape(out) -> str:
    if isinstance(out, Tensor):
        return str(list(out.shape))
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape(o) for o in out)
    if isinstance(out, dict):
        return ", ".join(f"{k}: {_shape(v)}" for k, v in out.items())
    return type(out).__name__


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@torch.no_grad()
def summarize(model: nn.Module, input_shape: tuple[int, ...], batch_size: int = 1,
              device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> Summary:
    """Run `model` on zeros of shape `[batch_size, *input_shape]` and tabulate its layers.

    `dtype=torch.int64` feeds token ids (all zeros) to models that start with an embedding.

    The model is put in eval mode for the pass and restored afterwards. Errors from the
    forward pass propagate (the caller decides how to report a wrong input size).
    """
    rows: list[LayerRow] = []
    seen: set[int] = set()
    hooks = []

    def hook_for(name: str):
        def hook(module: nn.Module, _inputs, output) -> None:
            own = list(module.parameters(recurse=False))
            fresh = sum(p.numel() for p in own if id(p) not in seen)
            seen.update(id(p) for p in own)
            rows.append(LayerRow(name, type(module).__name__, _shape(output), fresh))
        return hook

    for name, module in model.named_modules():
        is_leaf = next(module.children(), None) is None
        has_own = next(module.parameters(recurse=False), None) is not None
        if name and (is_leaf or has_own):
            hooks.append(module.register_forward_hook(hook_for(name)))
    was_training = model.training
    model.eval()
    try:
        out = model(torch.zeros((batch_size, *input_shape), device=device, dtype=dtype))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return Summary(rows, tuple(input_shape), _shape(out), count_params(model), count_params(model, True))
