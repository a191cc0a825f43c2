"""Image restoration: denoising (DnCNN) and super-resolution (ESPCN, SRCNN) beside classical
baselines, scored by PSNR and SSIM on held-out images.

    models.py     DnCNN, ESPCN, SRCNN, bicubic_up
    degrade.py    add_noise (σ on 0-255), downscale (bicubic, antialiased); range checks
    data.py       random training patches degraded on the fly; crop checks
    quality.py    psnr, ssim (checked against scikit-image)
    baselines.py  Gaussian / median filters, non-local means, total variation; parameters
                  chosen on training images
    evaluate.py   every method on the same degraded held-out images
    figure.py     degraded | baselines | network | clean crops
    settings.py   the recipes' config sections;  run.py  the runs (isbi-dncnn, isbi-espcn)

Recipes: `dlcc run isbi-dncnn --set restore.sigma=25`, `dlcc run isbi-espcn --set restore.scale=2`.
Guide: docs/restoration.md.
"""

from dlcc.restore.degrade import SIGMA_MAX, add_noise, check_sigma, downscale
from dlcc.restore.models import DnCNN, ESPCN, SCALES, SRCNN, bicubic_up, check_scale
from dlcc.restore.quality import psnr, ssim

__all__ = ["DnCNN", "ESPCN", "SCALES", "SIGMA_MAX", "SRCNN", "add_noise", "bicubic_up", "check_scale",
           "check_sigma", "downscale", "psnr", "ssim"]
