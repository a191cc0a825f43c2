"""Grad-CAM (Selvaraju et al. 2017): where in a convolutional layer's map the evidence is.

For a layer with activations `A [B, K, h, w]`, each channel k gets a weight α_k = the spatial
mean of ∂f/∂A_k (how much the explained number wants that channel), and the map is
`ReLU(Σ_k α_k A_k)`, `[B, 1, h, w]` — upsampled (bilinear) to the input size for overlays.
Late layers give coarse but class-specific maps; early layers fine but generic ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.errors import InputError
from dlcc.interpret.targets import Target, select


def last_conv(model: nn.Module) -> str:
    """The name of the last `Conv2d` among `model`'s modules (the usual Grad-CAM layer)."""
    names = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if not names:
        raise InputError("Grad-CAM needs a convolutional layer and this model has none",
                         fix="use another method (saliency, smoothgrad, integrated_gradients, occlusion)")
    return names[-1]


def find_layer(model: nn.Module, layer: str | nn.Module | None) -> nn.Module:
    if isinstance(layer, nn.Module):
        return layer
    name = layer or last_conv(model)
    modules = dict(model.named_modules())
    if name not in modules:
        convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)]
        raise InputError(f"the model has no layer {name!r}",
                         fix=f"name one of its conv layers, e.g. {', '.join(convs[-3:]) or 'none'}")
    return modules[name]


def gradcam(model: nn.Module, x: Tensor, target: Target = None, *, layer: str | nn.Module | None = None,
            relu: bool = True, upsample: bool = True) -> Tensor:
    """`x [B, C, H, W]` → `[B, 1, H, W]` (or `[B, 1, h, w]` with `upsample=False`).

    `layer`: a module of `model` or its name (default: the last Conv2d).
    """
    module = find_layer(model, layer)
    captured: list[Tensor] = []
    handle = module.register_forward_hook(lambda _m, _inp, out: captured.append(out))
    try:
        with torch.enable_grad():
            score = select(model(x.detach()), target).sum()
            if len(captured) != 1:
                raise InputError(f"Grad-CAM's layer ran {len(captured)} times in one forward pass",
                                 fix="choose a layer that runs once (not a shared module)")
            (grad,) = torch.autograd.grad(score, captured[0])
    finally:
        handle.remove()
    activations = captured[0].detach()
    if activations.ndim != 4:
        raise InputError(f"Grad-CAM needs a layer with [B, K, h, w] output; this one gives {tuple(activations.shape)}",
                         fix="choose a convolutional layer")
    weights = grad.mean((2, 3), keepdim=True)                          # α_k, [B, K, 1, 1]
    cam = (weights * activations).sum(1, keepdim=True)                 # [B, 1, h, w]
    if relu:
        cam = cam.clamp_min(0)
    if upsample and cam.shape[-2:] != x.shape[-2:]:
        cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return cam
