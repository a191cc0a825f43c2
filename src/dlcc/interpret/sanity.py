"""The model-randomisation sanity check (Adebayo et al. 2018, "Sanity checks for saliency maps").

A map that explains the *model* must change when the model's weights are destroyed. Starting
from the output layer, the weights are re-initialised layer by layer (a cascade toward the
input) and after each step the map is computed again and compared with the original by the
Spearman rank correlation of its importance values. An edge detector passes for a saliency
map to the eye, yet its correlation stays at 1 however much of the model is randomised:
the check catches it, and an honest method's correlation falls toward 0.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from dlcc.interpret.targets import Target

MapFn = Callable[[nn.Module, Tensor, Target], Tensor]   # (model, x, target) -> [B, H, W]


def parametrised_layers(model: nn.Module) -> list[str]:
    """Names of the leaf modules that own parameters, in the order they were defined
    (≈ input to output for sequential networks)."""
    return [name for name, m in model.named_modules()
            if not list(m.children()) and any(True for _ in m.parameters(recurse=False))]


def spearman(a: Tensor, b: Tensor) -> float:
    """Spearman rank correlation of two maps (ties share their mean rank); 0 when either is constant."""
    from scipy.stats import spearmanr

    a, b = a.detach().flatten().double().cpu().numpy(), b.detach().flatten().double().cpu().numpy()
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def randomise_(module: nn.Module, generator: torch.Generator) -> None:
    """Re-draw every parameter of `module` in place: weights from N(0, std²) with std the
    parameter's own (a layer of the same scale, without what it learned), biases and 1-D
    parameters likewise around 0; BatchNorm running statistics are left as they are."""
    with torch.no_grad():
        for p in module.parameters(recurse=False):
            std = float(p.std()) if p.numel() > 1 else 1.0
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device) * (std or 1.0))


def cascading_randomisation(model: nn.Module, x: Tensor, target: Target, explain: MapFn, *,
                            layers: list[str] | None = None, seed: int = 0) -> list[dict]:
    """Rank correlation of the maps of `explain` before and after randomising the layers of a
    copy of `model` from the last to the first (cumulatively).

    Returns one row per randomised layer: `{"layer", "spearman"}` (the mean over the batch of
    the correlation of each sample's map with its original map). `target` is fixed (e.g. the
    trained model's prediction), so the maps explain the same output throughout.
    """
    model = copy.deepcopy(model).eval()
    generator = torch.Generator().manual_seed(seed)
    original = explain(model, x, target)
    modules = dict(model.named_modules())
    rows = []
    for name in reversed(layers or parametrised_layers(model)):
        randomise_(modules[name], generator)
        maps = explain(model, x, target)
        rho = float(np.mean([spearman(o, m) for o, m in zip(original, maps)]))
        rows.append({"layer": name, "spearman": rho})
    return rows
