"""Deletion and insertion scores (Petsiuk et al. 2018, RISE): does the map point at what the
model actually uses?

Deletion removes the pixels the map ranks most important first (replacing them with the
`removed` image, black by default) and follows the probability of the target class: a
faithful map makes it fall fast, so the area under the curve (AUC) is small. Insertion starts
from a blurred copy of the image and puts the most important pixels back first: the
probability should rise fast, so a large AUC is good. Both are reported against a random
ranking, the score of a map that knows nothing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcc.interpret.targets import Target


def blur(x: Tensor, sigma: float = 5.0) -> Tensor:
    """Gaussian blur of `[B, C, H, W]` with std `sigma` pixels (reflect padding), per channel."""
    radius = max(1, int(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    radius_h, radius_w = min(radius, x.shape[-2] - 1), min(radius, x.shape[-1] - 1)
    out = F.pad(x, (radius_w, radius_w, radius_h, radius_h), mode="reflect")
    out = F.conv2d(out, k[radius - radius_h:radius + radius_h + 1].view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(out, k[radius - radius_w:radius + radius_w + 1].view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)


@torch.no_grad()
def _curve(model: nn.Module, start: Tensor, end: Tensor, order: Tensor, target: Target, steps: int) -> Tensor:
    """Probabilities `[B, steps + 1]` of `target` as pixels go from `start` to `end` in `order`
    (`[B, H·W]` pixel indices, most important first), `H·W / steps` pixels per step."""
    b, c, h, w = start.shape
    n = h * w
    counts = torch.linspace(0, n, steps + 1).round().long().tolist()
    # rank[b, p] = position of pixel p in sample b's order
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(n, device=order.device).expand(b, n))
    probs = []
    for k in counts:
        swapped = (rank < k).view(b, 1, h, w)
        image = torch.where(swapped, end, start)
        probs.append(torch.softmax(model(image).float(), 1).gather(1, _column(target, b, image.device))[:, 0])
    return torch.stack(probs, 1)


def _column(target: Target, b: int, device) -> Tensor:
    t = torch.as_tensor(0 if target is None else target, device=device).long().reshape(-1)
    return t.expand(b)[:, None] if len(t) == 1 else t[:, None]


def auc(curve: Tensor) -> Tensor:
    """Area under `[B, K+1]` curves on a uniform grid over [0, 1] (trapezoid rule), `[B]`."""
    return torch.trapezoid(curve, dx=1.0 / (curve.shape[1] - 1), dim=1)


def deletion_insertion(model: nn.Module, x: Tensor, maps: Tensor, target: Target = None, *, steps: int = 32,
                       removed: Tensor | float = 0.0, blur_sigma: float = 5.0) -> dict[str, Tensor]:
    """Deletion and insertion curves and AUCs of importance `maps [B, H, W]` for `x [B, C, H, W]`.

    Returns `{"deletion": AUC [B], "insertion": AUC [B], "deletion_curve": [B, steps+1],
    "insertion_curve": [B, steps+1]}`. Ties in a map are broken by pixel index.
    """
    model.eval()
    order = maps.flatten(1).argsort(dim=1, descending=True, stable=True)
    gone = torch.as_tensor(removed, dtype=x.dtype, device=x.device).expand_as(x)
    deletion = _curve(model, x, gone, order, target, steps)
    insertion = _curve(model, blur(x, blur_sigma), x, order, target, steps)
    return {"deletion": auc(deletion), "insertion": auc(insertion), "deletion_curve": deletion,
            "insertion_curve": insertion}


def random_maps(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Importance maps `[B, H, W]` of uniform noise: the ranking of a method that knows nothing."""
    return torch.rand((x.shape[0], *x.shape[-2:]), generator=generator).to(x.device)
