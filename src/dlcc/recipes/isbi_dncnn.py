"""Recipe `isbi-dncnn`: DnCNN denoising of ISBI 2012 EM slices at noise σ = `restore.sigma`
(0-255 scale; 15, 25, 50), against Gaussian and median filters, non-local means and total
variation, each with its parameter chosen on training slices.

Data: slices 0-22 train (random 40×40 patches, fresh noise every batch), 23-24 validate
(`val_psnr` selects the kept weights), 25-29 test - whole 512×512 slices, one fixed noise draw,
the same for every method. Model: DnCNN with `model.depth` 3×3 convolutions of `model.width`
channels, BatchNorm, residual learning (it predicts the noise). MSE loss, Adam with a cosine
schedule.

metrics.json: `test_psnr`, `test_ssim` (DnCNN), `test_psnr_<method>` / `test_ssim_<method>`
for noisy, gaussian, median, nlm, tv; `test_psnr_best_baseline`, `test_psnr_gain` (DnCNN minus
the best baseline, dB); `baseline_parameters`. Figures: restorations.png, curves.png.
See docs/restoration.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlcc.config import section, setting
from dlcc.recipes.registry import Recipe
from dlcc.restore.run import build_denoiser, run_denoising
from dlcc.restore.settings import Denoise, DnCNNSettings, EMSlices, RestoreEval
from dlcc.train import TrainConfig

TRAIN = dict(epochs=None, steps=600, eval_every=150, batch_size=16, optimizer="adam", lr=2e-3,
             schedule="cosine", select="val_psnr")


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, patches, noise and augmentation", ge=0)
    data: EMSlices = section(EMSlices)
    restore: Denoise = section(Denoise)
    model: DnCNNSettings = section(DnCNNSettings)
    train: TrainConfig = section(TrainConfig, **TRAIN)
    eval: RestoreEval = section(RestoreEval)


RECIPE = Recipe("isbi-dncnn", "DnCNN denoising of ISBI EM slices (restore.sigma) vs Gaussian, median, NL-means, TV; "
                "PSNR/SSIM on 5 held-out slices", "isbi2012-em", Config, run_denoising, build_denoiser,
                presets={"paper": {"model.depth": 17, "model.width": 64}},
                tags=("vision", "restoration"), task="restoration", lightning=False)
