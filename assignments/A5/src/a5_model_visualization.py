"""A5: saliency maps and SmoothGrad: which input pixels move the loss most?

    saliency = d loss / d x                                   (Simonyan et al. 2014)
    SmoothGrad = mean over n noisy copies x + N(0, sigma^2) of d loss / d x   (Smilkov et al. 2017)

The course computed them for its U-Net's segmentation loss; the functions below work for any
model and loss. `python a5_model_visualization.py` draws them for dlcc's MNIST classifier
(loss: cross-entropy of the true digit) into result/model_visual/. dlcc's toolkit version, with
Grad-CAM, integrated gradients and occlusion: `dlcc explain RUN_DIR IMAGE`. Check your work
with `dlcc course test A5`.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import util


def compute_saliency_map(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, loss) -> torch.Tensor:
    """d loss(model(images), targets) / d images, shape of images; the model is left in eval
    mode and its own gradients are not kept."""
    model.eval()
    # === BEGIN SOLUTION A5.8 ===
    x = images.detach().clone().requires_grad_(True)
    (s_maps,) = torch.autograd.grad(loss(model(x), targets), x)
    # === END SOLUTION ===
    return s_maps


def compute_smoothing_grad_saliency_maps(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, loss,
                                         sigma: float = 0.01, num_rep: int = 20, seed: int = 0) -> torch.Tensor:
    """The mean of `num_rep` saliency maps of images + sigma * noise, the noise of each copy drawn
    in turn as torch.randn(images.shape, generator=g) from g = torch.Generator().manual_seed(seed)."""
    g = torch.Generator().manual_seed(seed)
    # === BEGIN SOLUTION A5.8 ===
    total = torch.zeros_like(images)
    for _ in range(num_rep):
        noise = torch.randn(images.shape, generator=g).to(images.device)
        total += compute_saliency_map(model, images + sigma * noise, targets, loss)
    s_maps = total / num_rep
    # === END SOLUTION ===
    return s_maps


def main(argv=None):
    parser = argparse.ArgumentParser(description="A5: saliency and SmoothGrad for dlcc's MNIST classifier")
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--sigma", type=float, default=0.1)
    parser.add_argument("--num_rep", type=int, default=20)
    args = parser.parse_args(argv)
    model = util.load_classifier()
    x, y = util.load_mnist("test", args.n)
    loss = nn.CrossEntropyLoss()
    s = compute_saliency_map(model, x, y, loss)
    smooth = compute_smoothing_grad_saliency_maps(model, x, y, loss, args.sigma, args.num_rep)
    path = util.plot_image_row({"image": x, "|saliency|": s.abs(), "|SmoothGrad|": smooth.abs()},
                               util.RESULT_DIR / "model_visual" / "saliency_map.png", [int(v) for v in y])
    print(f"saved {path}")


if __name__ == "__main__":
    main()
