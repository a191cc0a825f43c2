"""The attribution methods by name, with one calling convention and one way to draw each.

    attr = attribute("integrated_gradients", model, x, target=3, steps=32)   # [B, C, H, W]
    maps = to_map("integrated_gradients", attr)                              # [B, H, W]

`to_map` reduces an attribution to one value per pixel, as each method's paper shows it:
gradient maps by their largest absolute value over the channels (Simonyan et al.),
integrated gradients by the signed sum over channels (positive = evidence for the target),
Grad-CAM and occlusion as they are. Higher always means "more important", so rankings
(deletion/insertion) and overlays read every map the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import Tensor, nn

from dlcc.errors import InputError
from dlcc.interpret.gradcam import gradcam
from dlcc.interpret.gradients import saliency, smoothgrad
from dlcc.interpret.integrated_gradients import integrated_gradients
from dlcc.interpret.occlusion import occlusion
from dlcc.interpret.targets import Target

METHODS: dict[str, Callable[..., Tensor]] = {
    "saliency": saliency,
    "smoothgrad": smoothgrad,
    "integrated_gradients": integrated_gradients,
    "gradcam": gradcam,
    "occlusion": occlusion,
}
_MAPS: dict[str, Callable[[Tensor], Tensor]] = {
    "saliency": lambda a: a.abs().amax(1),
    "smoothgrad": lambda a: a.abs().amax(1),
    "integrated_gradients": lambda a: a.sum(1),
    "gradcam": lambda a: a[:, 0],
    "occlusion": lambda a: a.mean(1),
}


def check_method(name: str) -> str:
    if name not in METHODS:
        raise InputError(f"unknown attribution method {name!r}", fix=f"use one of {', '.join(METHODS)}")
    return name


def attribute(method: str, model: nn.Module, x: Tensor, target: Target = None, **options) -> Tensor:
    """`METHODS[method](model, x, target, **options)`: `x [B, C, H, W]` → `[B, C or 1, H, W]`."""
    return METHODS[check_method(method)](model, x, target, **options)


def to_map(method: str, attributions: Tensor) -> Tensor:
    """`[B, C, H, W]` attributions → `[B, H, W]` importance (see the module docstring)."""
    return _MAPS[check_method(method)](attributions)


def explainer(method: str, **options) -> Callable[[nn.Module, Tensor, Target], Tensor]:
    """`fn(model, x, target) -> [B, H, W]` importance maps of `method` with fixed options."""
    fn = partial(METHODS[check_method(method)], **options)
    return lambda model, x, target: to_map(method, fn(model, x, target))
