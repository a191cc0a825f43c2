"""Lecture 7 companion: CNN architectures and what they are used for.

1. ImageNet (ILSVRC) classification winners, 2010-2017: top-5 error and depth.
2. Parameters and CPU latency of dlcc's course CNNs; a standard vs a depthwise-separable layer.
3. Why residual connections: a 20-layer plain network vs the same with skips.
4. U-Net segmentation of synthetic shapes (dlcc.models.UNet, Dice from dlcc.metrics).
5. A denoising CNN that predicts the noise (DnCNN-style residual learning).
6. Super-resolution x2 with a pixel-shuffle head (ESPCN-style) vs bicubic interpolation.
7. Detection post-processing: IoU and non-maximum suppression of overlapping boxes.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from dlcc.data import load_digits, make_shapes
from dlcc.lectures.plotting import new_figure
from dlcc.metrics.segmentation import dice_per_image
from dlcc.models import Cifar10SmallCNN, Cifar10SmallResNet, ResNet18, UNet, count_params

# Published ILSVRC classification results (top-5 error, %), and the winners' depth in layers.
ILSVRC = [(2010, "NEC-UIUC", 28.2, None), (2011, "XRCE", 25.8, None), (2012, "AlexNet", 16.4, 8),
          (2013, "ZFNet", 11.7, 8), (2014, "GoogLeNet", 6.7, 22), (2015, "ResNet", 3.57, 152),
          (2016, "Trimps-Soushen", 2.99, None), (2017, "SENet", 2.25, 154)]
HUMAN_TOP5 = 5.1    # one trained annotator, Russakovsky et al. 2015


def _imagenet(c):
    c.section("1. ILSVRC classification winners (top-5 error)")
    c.table(["year", "winner", "top-5 error %", "layers"], [[y, n, e, d or "-"] for y, n, e, d in ILSVRC], ".3g")
    fig, ax = new_figure(size=(7.5, 3.6))
    years = [r[0] for r in ILSVRC]
    ax.bar(years, [r[2] for r in ILSVRC], color=["0.6" if r[0] < 2012 else "C0" for r in ILSVRC])
    for y, n, e, d in ILSVRC:
        ax.text(y, e + 0.6, n + (f"\n{d} layers" if d else ""), ha="center", fontsize=7)
    ax.axhline(HUMAN_TOP5, color="C3", ls="--", lw=1)
    ax.text(2010.6, HUMAN_TOP5 + 0.6, "one trained human, 5.1%", color="C3", fontsize=8)
    ax.set_ylabel("top-5 error (%)")
    ax.set_ylim(0, 33)
    ax.set_xticks(years)
    c.figure("imagenet", fig, "ImageNet classification winners by year (grey: before deep CNNs). "
             "Error fell six-fold in five years as the networks went from 8 to over 150 layers.")


def _zoo(c):
    c.section("2. Parameters and CPU latency (batch 32 of 3x32x32, one thread)")
    models = {"small CNN (A3)": Cifar10SmallCNN(), "small CNN, MobileNet blocks (A3)": Cifar10SmallCNN(use_mobile_net_conv=True),
              "small pre-activation ResNet (A3)": Cifar10SmallResNet(), "ResNet-18 (CIFAR)": ResNet18()}
    x = torch.randn(32, 3, 32, 32)
    reps = c.steps(1, 5)
    rows, names, params, lat = [], [], [], []
    for name, model in models.items():
        model.eval()
        with torch.no_grad():
            model(x)
            start = time.perf_counter()
            for _ in range(reps):
                model(x)
        ms = (time.perf_counter() - start) / reps * 1e3
        rows.append([name, count_params(model), ms])
        names.append(name.replace(" (A3)", "").replace(" (CIFAR)", ""))
        params.append(count_params(model) / 1e6)
        lat.append(ms)
    c.table(["model", "parameters", "ms per batch of 32"], rows, ".4g")
    std = 256 * 256 * 9 + 256
    sep = 256 * 9 + 256 + 256 * 256 + 256
    c.number("separable_saving", std / sep, "3x3 conv 256->256: standard / depthwise-separable parameters", ".3g")
    c.number("mobilenet_param_ratio", rows[0][1] / rows[1][1], "small CNN / its MobileNet variant, parameters", ".3g")
    fig, (a1, a2) = new_figure(1, 2, size=(10, 3.2))
    a1.barh(names, params, color="C0")
    a1.set_xlabel("parameters (millions)")
    a2.barh(names, lat, color="C1")
    a2.set_xlabel("CPU ms per batch of 32")
    a2.set_yticks([])
    c.figure("zoo", fig, "Size and speed of the course's CIFAR-10 networks. Depthwise-separable blocks "
             "cut the small CNN's parameters about threefold; fewer parameters do not always mean "
             "proportionally less time on a CPU.")


class _Deep(nn.Module):
    """`depth` blocks of Linear(64,64)+ReLU, optionally with identity skips x + f(x)."""

    def __init__(self, depth: int, residual: bool):
        super().__init__()
        self.inp, self.out = nn.Linear(64, 64), nn.Linear(64, 10)
        self.blocks = nn.ModuleList(nn.Linear(64, 64) for _ in range(depth))
        self.residual = residual
        for b in self.blocks:   # He init for plain; scaled down for residual so the sum stays O(1)
            nn.init.kaiming_normal_(b.weight, nonlinearity="relu")
            if residual:
                b.weight.data /= depth ** 0.5
            nn.init.zeros_(b.bias)

    def forward(self, x):
        h = torch.relu(self.inp(x.flatten(1)))
        for b in self.blocks:
            h = h + torch.relu(b(h)) if self.residual else torch.relu(b(h))
        return self.out(h)


def _residual(c):
    c.section("3. Residual connections: 20 hidden layers, plain vs x + F(x) (digits, SGD)")
    d = load_digits()
    x, y = torch.from_numpy(d["train"][0]), torch.from_numpy(d["train"][1])
    fig, ax = new_figure(size=(6.5, 3.5))
    steps = c.steps(200, 500)
    for residual in (False, True):
        torch.manual_seed(0)
        net = _Deep(20, residual)
        opt = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
        losses = []
        gen = torch.Generator().manual_seed(0)
        for step in range(steps):
            idx = torch.randint(0, len(x), (64,), generator=gen)
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            if step == 0:
                first = net.blocks[0].weight.grad.norm().item()
            opt.step()
            losses.append(loss.item())
        name = "residual" if residual else "plain"
        ax.plot(np.convolve(losses, np.ones(10) / 10, "valid"), label=f"{name}, 20 layers")
        c.number(f"{name}_first_block_grad", first, f"{name}: gradient norm of the first block at step 0", ".3g")
        c.number(f"{name}_final_loss", np.mean(losses[-20:]), f"{name}: training loss, last 20 steps", ".3g")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (moving average)")
    ax.legend(fontsize=8)
    c.figure("residual", fig, "Two 20-layer networks trained the same way. With identity skips the "
             "gradient reaches the first layers intact and the loss falls at once; the plain stack "
             "learns slowly, although it could represent everything the residual one can.")


def _psnr(a, b):
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def _shapes_tensors(n, seed, noise=0.02, size=48):
    images, masks = make_shapes(n, size=size, seed=seed, noise=noise)
    return torch.from_numpy(images).float(), torch.from_numpy(masks).float()[:, None]


def _train_steps(model, batches, loss_fn, steps, lr=2e-3):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        xb, yb = batches(step)
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model


def _unet(c):
    c.section("4. U-Net segmentation of synthetic shapes (48x48, depth 3, width 8)")
    x, m = _shapes_tensors(256, seed=0, noise=0.15)
    xt, mt = _shapes_tensors(32, seed=1, noise=0.15)
    torch.manual_seed(0)
    net = UNet(in_channels=1, out_channels=1, depth=3, width=8)
    gen = torch.Generator().manual_seed(0)

    def batches(step):
        idx = torch.randint(0, len(x), (8,), generator=gen)
        return x[idx], m[idx]

    _train_steps(net, batches, nn.functional.binary_cross_entropy_with_logits, c.steps(150, 300))
    with torch.no_grad():
        logits = net(xt)
    dice = dice_per_image(logits, mt, from_logits=True)
    c.number("unet_mean_dice", dice.mean().item(), "mean Dice on 32 test images", ".3f")
    c.number("unet_params", count_params(net), "U-Net parameters", ".0f")
    fig, axes = new_figure(3, 4, size=(8, 6))
    for k in range(4):
        for row, (img, title) in enumerate(((xt[k, 0], "image"), (mt[k, 0], "mask"),
                                            (torch.sigmoid(logits[k, 0]), f"prediction, Dice {dice[k]:.2f}"))):
            axes[row, k].imshow(img.numpy(), cmap="gray", vmin=0, vmax=1)
            axes[row, k].set_title(title, fontsize=8)
            axes[row, k].axis("off")
    c.figure("unet", fig, "A small U-Net (encoder, decoder, concatenated skips) trained for a few "
             "hundred steps on noisy synthetic shapes: image, true mask, predicted probability.")


class _Denoiser(nn.Module):
    """Predicts the noise and subtracts it: output = x - f(x) (residual learning)."""

    def __init__(self, width: int = 16, layers: int = 5):
        super().__init__()
        body = [nn.Conv2d(1, width, 3, padding=1), nn.ReLU()]
        for _ in range(layers - 2):
            body += [nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        body.append(nn.Conv2d(width, 1, 3, padding=1))
        self.body = nn.Sequential(*body)

    def forward(self, x):
        return x - self.body(x)


class _SuperResolution(nn.Module):
    """x2 up-sampling: bicubic interpolation plus a learnt correction. The correction is computed
    at the low resolution as 4 channels, then pixel shuffle places them on the 2x grid."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, width, 5, padding=2), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, 4, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, x):
        base = nn.functional.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
        return base + self.body(x)


def _denoise_and_sr(c):
    c.section("5. Denoising (noise sigma 0.2) and 6. super-resolution x2, on synthetic shapes")
    clean, _ = _shapes_tensors(256, seed=2, noise=0.0, size=64)
    test, _ = _shapes_tensors(16, seed=3, noise=0.0, size=64)
    clean = nn.functional.avg_pool2d(clean, 2)            # 32x32 keeps the CPU time small
    test = nn.functional.avg_pool2d(test, 2)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    noisy_test = test + 0.2 * torch.randn(test.shape, generator=torch.Generator().manual_seed(9))

    def noisy_batches(step):
        idx = torch.randint(0, len(clean), (8,), generator=gen)
        return clean[idx] + 0.2 * torch.randn(clean[idx].shape, generator=gen), clean[idx]

    den = _train_steps(_Denoiser(), noisy_batches, nn.functional.mse_loss, c.steps(200, 500))
    with torch.no_grad():
        denoised = den(noisy_test).clamp(0, 1)
    blurred = nn.functional.avg_pool2d(nn.functional.pad(noisy_test, (1, 1, 1, 1), mode="replicate"), 3, 1)
    rows = [["noisy input", _psnr(noisy_test.numpy(), test.numpy())],
            ["3x3 mean filter", _psnr(blurred.numpy(), test.numpy())],
            ["denoising CNN", _psnr(denoised.numpy(), test.numpy())]]
    c.table(["denoiser", "PSNR dB"], rows, ".3g")
    c.number("denoise_psnr_gain", rows[2][1] - rows[0][1], "PSNR gain of the CNN over the noisy input (dB)", ".3g")

    low = nn.functional.avg_pool2d(clean, 2)               # 16x16 inputs, 32x32 targets
    low_test = nn.functional.avg_pool2d(test, 2)
    torch.manual_seed(0)
    sr = _SuperResolution()

    def sr_batches(step):
        idx = torch.randint(0, len(clean), (8,), generator=gen)
        return low[idx], clean[idx]

    _train_steps(sr, sr_batches, nn.functional.mse_loss, c.steps(250, 600))
    with torch.no_grad():
        up_cnn = sr(low_test).clamp(0, 1)
    up_bicubic = nn.functional.interpolate(low_test, scale_factor=2, mode="bicubic", align_corners=False).clamp(0, 1)
    c.table(["x2 up-sampler", "PSNR dB"], [["bicubic interpolation", _psnr(up_bicubic.numpy(), test.numpy())],
                                         ["CNN + pixel shuffle", _psnr(up_cnn.numpy(), test.numpy())]], ".3g")
    c.number("sr_psnr_gain", _psnr(up_cnn.numpy(), test.numpy()) - _psnr(up_bicubic.numpy(), test.numpy()),
             "PSNR gain of the super-resolution CNN over bicubic (dB)", ".3g")
    fig, axes = new_figure(2, 4, size=(9, 4.8))
    panels = [(noisy_test, "noisy"), (blurred, "mean filter"), (denoised, "denoising CNN"), (test, "clean"),
              (nn.functional.interpolate(low_test, scale_factor=2), "16x16 input"), (up_bicubic, "bicubic x2"),
              (up_cnn, "CNN x2"), (test, "32x32 truth")]
    for ax, (img, title) in zip(axes.flat, panels):
        ax.imshow(img[0, 0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    c.figure("restoration", fig, "Top: denoising (the CNN predicts the noise and subtracts it). "
             "Bottom: x2 super-resolution (the CNN adds to the bicubic image a correction whose 4 "
             "channels pixel shuffle turns into a 2x larger map).")


def _nms(c):
    c.section("7. Detection post-processing: IoU and non-maximum suppression")
    from torchvision.ops import box_iou, nms

    rng = np.random.default_rng(0)
    truth = torch.tensor([[10.0, 12.0, 30.0, 34.0], [36.0, 8.0, 58.0, 26.0], [20.0, 40.0, 50.0, 60.0]])
    boxes, scores = [], []
    for box in truth:          # a detector fires several times around each object
        for _ in range(6):
            boxes.append(box + torch.from_numpy(rng.normal(0, 2.0, 4)).float())
            scores.append(float(rng.uniform(0.5, 1.0)))
    boxes, scores = torch.stack(boxes), torch.tensor(scores)
    keep = nms(boxes, scores, iou_threshold=0.5)
    iou_kept = box_iou(boxes[keep], truth).max(1).values
    c.number("boxes_before_nms", len(boxes), "candidate boxes", ".0f")
    c.number("boxes_after_nms", len(keep), "boxes after NMS at IoU 0.5", ".0f")
    c.number("kept_min_iou", iou_kept.min().item(), "smallest IoU of a kept box with its object", ".3f")
    fig, axes = new_figure(1, 2, size=(8, 3.6))
    for ax, idx, title in ((axes[0], range(len(boxes)), "before NMS"), (axes[1], keep.tolist(), "after NMS")):
        for i in idx:
            x0, y0, x1, y1 = boxes[i].tolist()
            ax.add_patch(__import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
                (x0, y0), x1 - x0, y1 - y0, fill=False, color="C3", lw=1, alpha=0.4 + 0.6 * scores[i].item()))
        ax.set_xlim(0, 64)
        ax.set_ylim(64, 0)
        ax.set_title(f"{title}: {len(list(idx))} boxes", fontsize=9)
        ax.set_aspect("equal")
    c.figure("nms", fig, "A detector proposes many overlapping boxes per object; non-maximum "
             "suppression keeps the highest-scoring one and drops boxes that overlap it by IoU > 0.5.")


def run(c) -> None:
    _imagenet(c)
    _zoo(c)
    _residual(c)
    _unet(c)
    _denoise_and_sr(c)
    _nms(c)
