"""Images for GANs: uint8 pixels <-> [-1, 1] floats (the range of the generator's tanh), and
sample grids as PNG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


def to_unit(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 `[N, H, W]` or `[N, C, H, W]` in 0..255 -> float32 `[N, C, H, W]` in [-1, 1]."""
    x = torch.as_tensor(images)
    if x.dim() == 3:
        x = x.unsqueeze(1)
    return x.float().div(127.5).sub(1.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float `[N, C, H, W]` in [-1, 1] -> uint8 `[N, C, H, W]` (values outside are clipped)."""
    return ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def save_grid(images: torch.Tensor, path: str | Path, nrow: int = 10, scale: int = 2) -> Path:
    """Save `[N, C, H, W]` images in [-1, 1] as one PNG grid, `nrow` per row, each pixel
    `scale` x `scale` (a 10 x 10 grid of 28 x 28 digits is 604 x 604 pixels)."""
    from PIL import Image
    from torchvision.utils import make_grid

    grid = make_grid(images.detach().float().cpu().clamp(-1, 1), nrow=nrow, padding=2, pad_value=1.0)
    pixels = to_uint8(grid[None])[0].transpose(1, 2, 0)
    image = Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
