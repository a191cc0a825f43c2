"""Scoring on held-out images: the network and every classical baseline on the same inputs.

`evaluate_denoising` adds one fixed noise draw (seeded) to each clean test image, and
`evaluate_superres` downscales each one; every method then restores that same degraded image,
and PSNR / SSIM are computed against the clean image on the whole image, after clipping to
[0, 1]. Returns per-method means and per-image values, plus a few examples for the figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from dlcc.restore.baselines import denoise
from dlcc.restore.degrade import add_noise, downscale
from dlcc.restore.models import bicubic_up
from dlcc.restore.quality import psnr, ssim


@torch.no_grad()
def restore_views(model: nn.Module, degraded: Tensor, self_ensemble: bool = False) -> dict[str, np.ndarray]:
    """`model` (in eval mode) on one image `[1, H, W]`: {"model": clipped numpy `[H', W']`}, and
    with `self_ensemble` also "model_x8": the model on the 8 rotations and mirror images of the
    input, each output turned back, averaged, then clipped (the "+" models of Lim et al. 2017,
    EDSR). The plain output is the ensemble's identity view, so both cost 8 passes, not 9. The
    ensemble suits images with no preferred orientation, such as EM sections."""
    device = next(model.parameters()).device
    x = degraded[None].to(device)
    plain = model(x)
    views = {"model": np.clip(plain[0, 0].float().cpu().numpy(), 0, 1)}
    if self_ensemble:
        total = plain
        for flip in (False, True):
            for turns in range(0 if flip else 1, 4):   # no flip, no turn: that view is `plain`
                view = torch.rot90(x.flip(-1) if flip else x, turns, dims=(-2, -1))
                out = torch.rot90(model(view), -turns, dims=(-2, -1))
                total = total + (out.flip(-1) if flip else out)
        views["model_x8"] = np.clip((total / 8)[0, 0].float().cpu().numpy(), 0, 1)
    return views


def restore_image(model: nn.Module, degraded: Tensor, self_ensemble: bool = False) -> np.ndarray:
    """`model` on one image `[1, H, W]` -> clipped numpy `[H', W']`: the plain pass, or with
    `self_ensemble` the average over the 8 views (see `restore_views`)."""
    return restore_views(model, degraded, self_ensemble)["model_x8" if self_ensemble else "model"]


def _score(table: dict, name: str, clean: np.ndarray, estimate: np.ndarray) -> None:
    row = table.setdefault(name, {"psnr": [], "ssim": []})
    row["psnr"].append(psnr(clean, estimate))
    row["ssim"].append(ssim(clean, estimate))


def _summary(table: dict, examples: list) -> dict:
    methods = {name: {"psnr": float(np.mean(v["psnr"])), "ssim": float(np.mean(v["ssim"])),
                      "psnr_per_image": [round(x, 3) for x in v["psnr"]],
                      "ssim_per_image": [round(x, 4) for x in v["ssim"]]} for name, v in table.items()}
    return {"methods": methods, "examples": examples}


def evaluate_denoising(model: nn.Module, clean: Tensor, sigma: float, parameters: dict[str, float],
                       seed: int = 0, keep: int = 2, self_ensemble: bool = False) -> dict:
    """Network vs `parameters` ({denoiser: chosen parameter}) on `clean` `[N, 1, H, W]`.

    Methods: "noisy" (the input itself), each denoiser, "model", and with `self_ensemble` also
    "model_x8" (see `restore_image`; not in the examples). `keep` examples ({method: image},
    plus "clean") are returned for the figure."""
    generator = torch.Generator().manual_seed(10_000 + seed)   # the same noise for every method
    table: dict = {}
    examples = []
    for i, image in enumerate(clean):
        noisy = add_noise(image, sigma, generator)
        target, noisy_np = image[0].numpy().astype(np.float64), noisy[0].numpy().astype(np.float64)
        outputs = {"noisy": np.clip(noisy_np, 0, 1)}
        outputs.update({name: denoise(name, noisy_np, p, sigma) for name, p in parameters.items()})
        views = restore_views(model, noisy, self_ensemble)
        outputs["model"] = views["model"]
        for name, estimate in {**outputs, **views}.items():
            _score(table, name, target, estimate)
        if i < keep:
            examples.append({**outputs, "clean": target})
    return _summary(table, examples)


def evaluate_superres(model: nn.Module, clean: Tensor, scale: int, keep: int = 2,
                      self_ensemble: bool = False) -> dict:
    """Network vs bicubic upsampling on `clean` `[N, 1, H, W]` downscaled ×`scale`.

    Methods: "bicubic", "model" (and "model_x8" with `self_ensemble`, as in
    `evaluate_denoising`); examples also hold "lowres" (shown pixel-replicated)."""
    table: dict = {}
    examples = []
    for i, image in enumerate(clean):
        lowres = downscale(image[None], scale)[0]
        target = image[0].numpy().astype(np.float64)
        views = restore_views(model, lowres, self_ensemble)
        outputs = {"bicubic": np.clip(bicubic_up(lowres[None], scale)[0, 0].numpy(), 0, 1).astype(np.float64),
                   "model": views["model"]}
        for name, estimate in {**outputs, **views}.items():
            _score(table, name, target, estimate)
        if i < keep:
            nearest = np.kron(lowres[0].numpy(), np.ones((scale, scale)))
            examples.append({"lowres": nearest, **outputs, "clean": target})
    return _summary(table, examples)


def flat_metrics(result: dict, baselines: Sequence[str], prefix: str = "test") -> dict:
    """metrics.json keys: `{prefix}_psnr` / `_ssim` (the model), `{prefix}_psnr_<method>` for every
    other method, `{prefix}_psnr_best_baseline` and `{prefix}_psnr_gain` (model minus it, dB);
    with a "model_x8" row also `{prefix}_psnr_gain_x8` (the self-ensemble minus the same baseline)."""
    methods = result["methods"]
    out = {f"{prefix}_psnr": round(methods["model"]["psnr"], 4), f"{prefix}_ssim": round(methods["model"]["ssim"], 5)}
    for name, row in methods.items():
        if name != "model":
            out[f"{prefix}_psnr_{name}"] = round(row["psnr"], 4)
            out[f"{prefix}_ssim_{name}"] = round(row["ssim"], 5)
    if baselines:
        best = max(baselines, key=lambda n: methods[n]["psnr"])
        out[f"{prefix}_best_baseline"] = best
        out[f"{prefix}_psnr_best_baseline"] = round(methods[best]["psnr"], 4)
        out[f"{prefix}_psnr_gain"] = round(methods["model"]["psnr"] - methods[best]["psnr"], 4)
        if "model_x8" in methods:
            out[f"{prefix}_psnr_gain_x8"] = round(methods["model_x8"]["psnr"] - methods[best]["psnr"], 4)
    out[f"{prefix}_psnr_per_image"] = methods["model"]["psnr_per_image"]
    return out
