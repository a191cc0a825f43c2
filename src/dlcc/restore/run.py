"""The restoration runs: ISBI EM slices -> training pairs -> a network trained through
`dlcc.train.train_and_report` -> network and classical baselines scored on held-out slices.

Split by slice, never by patch: training patches come only from the slices outside
`data.test_slices` and `data.val_slices` (neighbouring EM sections look alike, so a patch of a
test slice's neighbour is as close as the split can keep them apart). Validation (weight
selection, `val_psnr`) uses the central crop of the validation slices with one fixed noise
draw; the baselines' parameters are chosen on training slices; the test slices are seen once,
at the end, by every method on identical degraded inputs.

Writes (besides what the run helper writes): restorations.png, restoration.json (per-method
and per-slice PSNR/SSIM, the baselines' chosen parameters and their PSNR for every value tried).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import Tensor, nn

from dlcc.restore.baselines import choose_parameters
from dlcc.restore.data import LowResPatches, NoisyPatches, center_crop
from dlcc.restore.degrade import add_noise, downscale
from dlcc.restore.evaluate import evaluate_denoising, evaluate_superres, flat_metrics
from dlcc.restore.figure import plot_restorations
from dlcc.restore.models import DnCNN, ESPCN, SRCNN
from dlcc.train.context import RunContext
from dlcc.utils.io import write_json


def batch_psnr(outputs: Tensor, targets: Tensor) -> Tensor:
    """Mean PSNR (dB, range 1) over a batch `[B, C, H, W]`, outputs clipped to [0, 1] first."""
    mse = (outputs.detach().clamp(0, 1) - targets).square().flatten(1).mean(1).clamp_min(1e-12)
    return (-10 * torch.log10(mse)).mean()


def load_em_slices(data) -> dict[str, Tensor]:
    """{"train", "val", "test"}: float32 `[n, 1, 512, 512]` in [0, 1], split by slice number."""
    from dlcc.data import load_isbi2012

    images = torch.from_numpy(load_isbi2012()["train_images"]).float().div(255)[:, None]
    held = set(data.test_slices) | set(data.val_slices)
    train = [i for i in range(len(images)) if i not in held]
    return {"train": images[train], "val": images[list(data.val_slices)], "test": images[list(data.test_slices)]}


def _spread(n_total: int, n: int) -> list[int]:
    """`n` indices spread evenly over range(n_total)."""
    return sorted({int(round(x)) for x in np.linspace(0, n_total - 1, min(n, n_total))})


def build_denoiser(cfg, artifacts: dict | None = None) -> nn.Module:
    return DnCNN(cfg.model.depth, cfg.model.width)


def build_superres(cfg, artifacts: dict | None = None) -> nn.Module:
    if cfg.restore.model == "espcn":
        return ESPCN(cfg.restore.scale, cfg.model.width, skip=cfg.model.skip, mid_layers=cfg.model.mid_layers)
    return SRCNN(cfg.restore.scale, cfg.model.width, skip=cfg.model.skip)


def _task(model, train_ds, val_pairs, cfg, name, artifacts):
    from dlcc.train import Task, TensorBatches, make_loader

    train = make_loader(train_ds, cfg.train.batch_size, shuffle=False, seed=cfg.seed)
    val = make_loader(TensorBatches(*val_pairs), 2)
    return Task(model, train, val, nn.MSELoss(), metrics={"psnr": batch_psnr}, title=name,
                artifacts={"input": {"channels": 1, "range": [0, 1]}, **artifacts})


def _report(result: dict, baselines: list[str], extra: dict, ctx: RunContext, title: str, n_show: int,
            crop: int) -> dict:
    metrics = flat_metrics(result, baselines)
    if n_show and result["examples"]:
        plot_restorations(result["examples"][:n_show], ctx.out_dir / "restorations.png", crop, title)
    methods = {k: v for k, v in result["methods"].items()}
    write_json(ctx.out_dir / "restoration.json", {"methods": methods, **extra})
    return {**metrics, **extra}


def run_denoising(cfg, ctx: RunContext) -> dict:
    """`isbi-dncnn`: DnCNN at noise σ = `restore.sigma` vs the classical denoisers."""
    from dlcc.train import train_and_report

    name, sigma = ctx.name or "isbi-dncnn", cfg.restore.sigma
    slices = load_em_slices(cfg.data)
    val_clean = center_crop(slices["val"], cfg.data.val_crop)
    val_noisy = add_noise(val_clean, sigma, torch.Generator().manual_seed(cfg.seed + 1))
    train_ds = NoisyPatches(slices["train"], cfg.data.patch, sigma, cfg.data.patches_per_epoch)
    model = build_denoiser(cfg)
    task = _task(model, train_ds, (val_noisy, val_clean), cfg, name, {"sigma": sigma})
    ctx.log(f"{name}: sigma {sigma:g}, {len(slices['train'])} training slices, patches of {cfg.data.patch}, "
            f"test slices {list(cfg.data.test_slices)}")

    def test(model, info):
        start = time.process_time()
        tune = center_crop(slices["train"][_spread(len(slices["train"]), cfg.eval.tune_slices)], cfg.eval.tune_crop)
        noise = torch.Generator().manual_seed(cfg.seed + 2)
        pairs = [(c[0].double().numpy(), add_noise(c, sigma, noise)[0].double().numpy()) for c in tune]
        chosen = choose_parameters(pairs, sigma, cfg.eval.baselines)
        tuned_s = time.process_time() - start
        result = evaluate_denoising(model.cpu(), slices["test"], sigma,
                                    {k: v["parameter"] for k, v in chosen.items()}, cfg.seed, cfg.eval.images,
                                    cfg.eval.self_ensemble)
        extra = {"sigma": sigma, "baseline_parameters": chosen, "baseline_tune_cpu_s": round(tuned_s, 1),
                 "test_eval_cpu_s": round(time.process_time() - start - tuned_s, 1)}
        return _report(result, list(cfg.eval.baselines), extra, ctx, f"{name}, sigma {sigma:g}",
                       cfg.eval.images, cfg.eval.figure_crop)

    return train_and_report(task, cfg.train, ctx, test=test)


def run_superres(cfg, ctx: RunContext) -> dict:
    """`isbi-espcn`: ESPCN or SRCNN at ×`restore.scale` vs bicubic upsampling."""
    from dlcc.train import train_and_report

    name, scale = ctx.name or "isbi-espcn", cfg.restore.scale
    slices = load_em_slices(cfg.data)
    val_hr = center_crop(slices["val"], cfg.data.val_crop - cfg.data.val_crop % scale)
    train_ds = LowResPatches(slices["train"], cfg.data.patch, scale, cfg.data.patches_per_epoch)
    model = build_superres(cfg)
    task = _task(model, train_ds, (downscale(val_hr, scale), val_hr), cfg, name,
                 {"scale": scale, "model": cfg.restore.model})
    ctx.log(f"{name}: {cfg.restore.model} x{scale}, {len(slices['train'])} training slices, "
            f"test slices {list(cfg.data.test_slices)}")

    def test(model, info):
        start = time.process_time()
        result = evaluate_superres(model.cpu(), slices["test"], scale, cfg.eval.images, cfg.eval.self_ensemble)
        extra = {"scale": scale, "model": cfg.restore.model,
                 "test_eval_cpu_s": round(time.process_time() - start, 1)}
        return _report(result, ["bicubic"], extra, ctx, f"{name}, {cfg.restore.model} x{scale}",
                       cfg.eval.images, cfg.eval.figure_crop)

    return train_and_report(task, cfg.train, ctx, test=test)
