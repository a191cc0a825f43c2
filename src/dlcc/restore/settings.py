"""The config sections of the restoration recipes (`isbi-dncnn`, `isbi-espcn`), declared once.

Ranges are checked when the config is validated, before anything is loaded or written:
σ in (0, 100] on the 0-255 scale, scale 2 or 4, crops no larger than the 512×512 ISBI slices
and (for super-resolution) multiples of the scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dlcc.config import setting
from dlcc.errors import ConfigError
from dlcc.restore.baselines import DENOISERS, check_baselines
from dlcc.restore.degrade import SIGMA_MAX

ISBI_SIDE = 512    # every ISBI 2012 slice is 512×512 (dlcc.data.isbi checks it)


@dataclass
class EMSlices:
    test_slices: list[int] = setting([25, 26, 27, 28, 29], "ISBI slices held out for testing", ge=0)
    val_slices: list[int] = setting([23, 24], "ISBI slices held out for validation (weight selection)", ge=0)
    patch: int = setting(40, "side of the random training patches (high-resolution pixels)", ge=8)
    patches_per_epoch: int = setting(2400, "random patches per epoch (fresh crops and noise every epoch)", ge=1)
    val_crop: int = setting(256, "validation uses the central crop of this side of each validation slice", ge=16)

    def check(self, where: str) -> None:
        for name in ("patch", "val_crop"):
            value = getattr(self, name)
            if value > ISBI_SIDE:
                raise ConfigError(f"{where}{name}={value} is larger than the ISBI slices ({ISBI_SIDE}x{ISBI_SIDE} "
                                  "pixels): a crop must fit inside the image",
                                  fix=f"--set {where}{name}={min(ISBI_SIDE, 256 if name == 'val_crop' else 40)}")
        bad = [i for i in [*self.test_slices, *self.val_slices] if i >= 30]
        if bad:
            raise ConfigError(f"slice numbers {bad} do not exist: ISBI 2012 has slices 0..29",
                              fix=f"--set {where}test_slices=[25,26,27,28,29] {where}val_slices=[23,24]")
        both = sorted(set(self.test_slices) & set(self.val_slices))
        if both:
            raise ConfigError(f"slices {both} are in both {where}test_slices and {where}val_slices",
                              fix="list each slice in one split only")
        if not self.test_slices or len(set(self.test_slices) | set(self.val_slices)) >= 30:
            raise ConfigError("the slice lists leave no test slice or no training slice",
                              fix=f"--set {where}test_slices=[25,26,27,28,29] {where}val_slices=[23,24]")


@dataclass
class Denoise:
    sigma: float = setting(25.0, f"Gaussian noise sigma on the 0-255 scale (0 < sigma <= {SIGMA_MAX:g}; "
                                 "15, 25, 50 are the usual)", gt=0, le=SIGMA_MAX)


@dataclass
class SuperRes:
    scale: Literal[2, 4] = setting(2, "upscaling factor (the input is the bicubic x scale downscaling)")
    model: Literal["espcn", "srcnn"] = setting("espcn", "espcn (sub-pixel convolution at low resolution) or "
                                                       "srcnn (on the bicubic-upsampled input)")


@dataclass
class DnCNNSettings:
    depth: int = setting(10, "convolutions in all (the paper: 17)", ge=3)
    width: int = setting(32, "channels of the hidden convolutions (the paper: 64)", ge=1)


@dataclass
class SRSettings:
    width: int = setting(64, "channels of the first convolution (the second has half)", ge=2)
    skip: bool = setting(True, "add the bicubic upsampling to the output (learn only the missing detail)")
    mid_layers: int = setting(1, "ESPCN only: 3x3 convolutions between the first and the last (the paper: 1); "
                                 "more see further", ge=0, le=16)


@dataclass
class RestoreEval:
    baselines: list[str] = setting(list(DENOISERS), "classical denoisers run beside the network "
                                                    "(gaussian, median, nlm, tv)")
    tune_slices: int = setting(3, "training slices the baselines' parameters are chosen on", ge=1)
    tune_crop: int = setting(192, "central crop of each of those slices used to choose them", ge=16)
    images: int = setting(2, "test slices shown in restorations.png", ge=0)
    figure_crop: int = setting(128, "side of the central crop shown in restorations.png", ge=16)
    self_ensemble: bool = setting(False, "also score the network averaged over the 8 rotations and mirror images "
                                         "of each test input (test_psnr_model_x8, test_psnr_gain_x8; 8x the "
                                         "test time; test_psnr stays the single pass)")

    def check(self, where: str) -> None:
        check_baselines(self.baselines)
        if self.tune_crop > ISBI_SIDE:
            raise ConfigError(f"{where}tune_crop={self.tune_crop} is larger than the ISBI slices "
                              f"({ISBI_SIDE}x{ISBI_SIDE} pixels)", fix=f"--set {where}tune_crop=192")
