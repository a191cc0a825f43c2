"""Recipe `isbi-espcn`: super-resolution of ISBI 2012 EM slices at ×`restore.scale` (2 or 4)
by ESPCN (`restore.model=espcn`: convolutions at low resolution, then PixelShuffle) or SRCNN
(`restore.model=srcnn`: convolutions on the bicubic-upsampled input), against bicubic
upsampling.

Data: the low-resolution input is the antialiased bicubic ×scale downscaling of the slice.
Slices 0-22 train (random 48×48 high-resolution patches), 23-24 validate (`val_psnr` selects
the weights), 25-29 test (whole slices). L2 loss, Adam with a cosine schedule.

metrics.json: `test_psnr`, `test_ssim` (the network), `test_psnr_bicubic`, `test_ssim_bicubic`,
`test_psnr_gain` (network minus bicubic, dB). Figures: restorations.png (low-res shown
pixel-replicated | bicubic | network | clean), curves.png. See docs/restoration.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.recipes.registry import Recipe
from dlcc.restore.run import build_superres, run_superres
from dlcc.restore.settings import EMSlices, RestoreEval, SRSettings, SuperRes
from dlcc.train import TrainConfig

TRAIN = dict(epochs=None, steps=2000, eval_every=250, batch_size=16, optimizer="adam", lr=2e-3,
             schedule="cosine", select="val_psnr")


@dataclass
class Config:
    seed: int = setting(0, "seed for weights, patches and augmentation", ge=0)
    data: EMSlices = section(EMSlices, patch=48)
    restore: SuperRes = section(SuperRes)
    model: SRSettings = section(SRSettings)
    train: TrainConfig = section(TrainConfig, **TRAIN)
    eval: RestoreEval = section(RestoreEval, baselines=[])

    def check(self, where: str) -> None:
        for key in ("patch", "val_crop"):
            value = getattr(self.data, key)
            if value % self.restore.scale or value < 4 * self.restore.scale:
                raise ConfigError(f"data.{key}={value} is not a multiple of restore.scale={self.restore.scale} "
                                  f"of at least {4 * self.restore.scale} pixels",
                                  fix=f"--set data.{key}={max(4, value // self.restore.scale) * self.restore.scale}")
        if self.restore.model == "srcnn" and self.model.mid_layers != 1:
            raise ConfigError(f"model.mid_layers={self.model.mid_layers} applies to ESPCN only; SRCNN has a fixed "
                              "9-5-5 layout", fix="drop model.mid_layers, or --set restore.model=espcn")


RECIPE = Recipe("isbi-espcn", "ESPCN (or SRCNN) super-resolution x2/x4 of ISBI EM slices vs bicubic; "
                "PSNR/SSIM on 5 held-out slices", "isbi2012-em", Config, run_superres, build_superres,
                tags=("vision", "restoration"), task="restoration", lightning=False)
