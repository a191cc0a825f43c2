"""Lecture 6 companion: convolution, its arithmetic, and normalisation layers.

1. Output-size arithmetic for conv, transpose conv, pooling, 1-D and 3-D conv, checked with torch.
2. Receptive fields: the input pixels one output unit sees, found by backprop, for plain,
   strided and dilated stacks.
3. Convolution as a feature detector: edge kernels through dlcc's NumPy Conv2d (= torch's).
4. Up-sampling: nearest, bilinear, transpose convolution (and its checkerboard), pixel shuffle.
5. BatchNorm, LayerNorm, GroupNorm and InstanceNorm: which statistics each one removes.
6. LeNet-5 and AlexNet, layer by layer, with parameter counts.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcc.data import make_shapes
from dlcc.lectures.plotting import new_figure
from dlcc.models import LeNet5, summarize
from dlcc.scratch import BatchNorm2d, Conv2d, LayerNorm, MaxPool2d
from dlcc.scratch.functional import conv_output_size


def _arithmetic(c):
    c.section("1. Output sizes: floor((n + 2p - d(k-1) - 1) / s) + 1, and transpose conv")
    rows = []
    cases = [  # (description, input shape, torch layer)
        # made-up sizes: A3's written questions ask about a similar layer, so the lecture's
        # worked example must not reproduce their answers
        ("5x5, stride 3, pad 2, 40 kernels", (1, 24, 200, 200), nn.Conv2d(24, 40, 5, stride=3, padding=2)),
        ("3x3, pad 1 ('same')", (1, 3, 32, 32), nn.Conv2d(3, 16, 3, padding=1)),
        ("3x3, stride 2, pad 1 (halve)", (1, 16, 32, 32), nn.Conv2d(16, 32, 3, stride=2, padding=1)),
        ("3x3, dilation 2, pad 2", (1, 16, 32, 32), nn.Conv2d(16, 16, 3, padding=2, dilation=2)),
        ("max-pool 2x2, stride 2", (1, 16, 32, 32), nn.MaxPool2d(2)),
        ("transpose conv 4x4, stride 2, pad 1 (double)", (1, 32, 16, 16), nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)),
        ("1-D conv k 9, stride 1 (ECG, 2 leads)", (1, 2, 1024), nn.Conv1d(2, 8, 9)),
        ("3-D conv 3x3x3, pad 1 (volume)", (1, 1, 64, 64, 32), nn.Conv3d(1, 8, 3, padding=1)),
        ("1x1 conv (mix channels only)", (1, 256, 8, 8), nn.Conv2d(256, 64, 1)),
    ]
    for name, shape, layer in cases:
        out = tuple(layer(torch.zeros(shape)).shape)
        params = sum(p.numel() for p in layer.parameters())
        rows.append([name, str(shape[1:]), str(out[1:]), params])
    c.table(["layer", "input (C, ...)", "output (C, ...)", "parameters"], rows)
    n = conv_output_size(200, 5, 3, 2, 1)
    c.number("conv_example_size", n, "worked example: spatial size after the 5x5/3/2 conv (by the formula)", ".0f")
    c.number("conv_example_params", 40 * 24 * 5 * 5 + 40, "its parameters: 40 x 24 x 5 x 5 weights + 40 biases", ".0f")


def _receptive_fields(c):
    c.section("2. Receptive fields, measured by backpropagating from one output unit")
    stacks = {
        "three 3x3 convs": [nn.Conv2d(1, 1, 3, padding=1) for _ in range(3)],
        "three 3x3 convs, stride 2": [nn.Conv2d(1, 1, 3, stride=2, padding=1) for _ in range(3)],
        "3x3 convs, dilation 1, 2, 4": [nn.Conv2d(1, 1, 3, padding=d, dilation=d) for d in (1, 2, 4)],
    }
    fig, axes = new_figure(1, 3, size=(10, 3.5))
    rows = []
    for ax, (name, layers) in zip(axes, stacks.items()):
        for layer in layers:
            nn.init.constant_(layer.weight, 1.0)     # positive weights: no cancellation hides a pixel
            nn.init.zeros_(layer.bias)
        net = nn.Sequential(*layers)
        x = torch.zeros(1, 1, 41, 41, requires_grad=True)
        y = net(x)
        y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
        grad = x.grad[0, 0].abs().numpy()
        rows_hit = np.nonzero(grad.sum(1))[0]
        size = rows_hit.max() - rows_hit.min() + 1
        k_s = [(l.kernel_size[0], l.stride[0], l.dilation[0]) for l in layers]
        formula, jump = 1, 1
        for k, s, d in k_s:                          # RF grows by d(k-1) input steps of the current jump
            formula += d * (k - 1) * jump
            jump *= s
        rows.append([name, int(size), formula])
        ax.imshow(grad > 0, cmap="Blues")
        ax.set_title(f"{name}\nreceptive field {size} x {size}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    c.table(["stack", "measured", "1 + sum d(k-1) x product of earlier strides"], rows)
    c.number("rf_dilated", rows[2][1], "receptive field of the dilated stack (3 layers)", ".0f")
    c.figure("receptive_field", fig, "The input pixels (blue) that influence the centre unit of the "
             "last layer. Three plain 3x3 convolutions see 7x7; stride or dilation makes the same three "
             "layers see 15x15.")


def _edges(c):
    c.section("3. Convolution as a feature detector: Sobel kernels in dlcc's NumPy Conv2d")
    images, _ = make_shapes(1, size=64, seed=5, noise=0.02)
    x = images[:1].astype(np.float32)                 # [1, 1, 64, 64]
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)
    conv = Conv2d(1, 2, 3, padding=1, bias=False)
    conv.params["weight"][...] = np.stack([sobel, sobel.T])[:, None]
    y = conv.forward(x)
    ref = nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(conv.params["weight"]), padding=1).numpy()
    c.number("conv_vs_torch", np.abs(y - ref).max(), "max |dlcc Conv2d - torch conv2d|", ".1e")
    pooled = MaxPool2d(2).forward(np.hypot(y[:, :1], y[:, 1:]))
    c.say(f"edge map {y.shape[2:]} -> after 2x2 max-pool {pooled.shape[2:]}")
    fig, axes = new_figure(1, 4, size=(11, 3))
    for ax, (img, title) in zip(axes, ((x[0, 0], "input"), (y[0, 0], "vertical edges (Sobel x)"),
                                       (y[0, 1], "horizontal edges (Sobel y)"),
                                       (pooled[0, 0], "edge strength, 2x2 max-pool"))):
        ax.imshow(img, cmap="gray" if title == "input" else "RdBu_r" if "Sobel" in title else "magma")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    c.figure("edges", fig, "Two hand-set 3x3 kernels applied by the NumPy Conv2d: each responds to "
             "intensity changes in one direction, with sign. A CNN learns such kernels instead.")


def _upsampling(c):
    c.section("4. Up-sampling: interpolation, transpose convolution, pixel shuffle")
    img = torch.zeros(1, 1, 8, 8)
    img[0, 0, 2:6, 3:5] = 1.0
    img[0, 0, 5, 1] = 1.0
    torch.manual_seed(0)
    tconv = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False)
    nn.init.constant_(tconv.weight, 1.0)
    flat = tconv(torch.ones(1, 1, 8, 8)).detach()[0, 0].numpy()
    shuffle = nn.PixelShuffle(2)(img.repeat(1, 4, 1, 1))
    outs = {"input 8x8": img[0, 0], "nearest x2": nn.functional.interpolate(img, scale_factor=2)[0, 0],
            "bilinear x2": nn.functional.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False)[0, 0],
            "pixel shuffle x2": shuffle[0, 0],
            "transpose conv 3x3/2\non a constant input": torch.from_numpy(flat)}
    c.number("checkerboard_ratio", flat[1:-1, 1:-1].max() / flat[1:-1, 1:-1].min(),
             "transpose conv 3x3 stride 2 on ones: max/min output (overlap unevenness)", ".3g")
    fig, axes = new_figure(1, 5, size=(12, 2.8))
    for ax, (title, im) in zip(axes, outs.items()):
        ax.imshow(im.detach().numpy(), cmap="viridis")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    c.figure("upsampling", fig, "Ways to double a feature map. Interpolation has no weights; pixel "
             "shuffle rearranges 4 channels into a 2x larger map; a transpose convolution learns its "
             "kernel, but with kernel 3 and stride 2 its windows overlap unevenly, which prints a "
             "checkerboard even on a constant input.")


def _normalisation(c):
    c.section("5. Normalisation layers: which mean each one removes")
    rng = np.random.default_rng(0)
    n, ch, h, w = 8, 6, 5, 5
    x = rng.normal(size=(n, ch, h, w)) + rng.normal(0, 3, (1, ch, 1, 1)) + rng.normal(0, 3, (n, 1, 1, 1))
    x = x.astype(np.float32)        # channel offsets (like features) and sample offsets (like brightness)
    bn = BatchNorm2d(ch)
    ln = LayerNorm((ch, h, w))
    gn = nn.GroupNorm(2, ch, affine=False)
    inorm = nn.InstanceNorm2d(ch)
    outs = {"input": x, "BatchNorm (N,H,W per channel)": bn.forward(x),
            "LayerNorm (C,H,W per sample)": ln.forward(x),
            "GroupNorm, 2 groups": gn(torch.from_numpy(x)).detach().numpy(),
            "InstanceNorm (H,W per sample, channel)": inorm(torch.from_numpy(x)).numpy()}
    ref = nn.functional.batch_norm(torch.from_numpy(x), None, None, training=True).numpy()
    c.number("bn_vs_torch", np.abs(outs["BatchNorm (N,H,W per channel)"] - ref).max(), "max |dlcc BatchNorm2d - torch|", ".1e")
    fig, axes = new_figure(1, 5, size=(13, 2.9), sharey=True)
    for ax, (title, out) in zip(axes, outs.items()):
        means = out.mean((2, 3))                     # [N, C]: the mean of each sample's channel
        ax.imshow(means, cmap="RdBu_r", vmin=-6, vmax=6)
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("channel")
        c.say(f"{title:<40} mean over batch per channel: max |.| {np.abs(means.mean(0)).max():.2e}; "
              f"mean over channels per sample: max |.| {np.abs(means.mean(1)).max():.2e}")
    axes[0].set_ylabel("sample in batch")
    c.figure("normalisation", fig, "Mean of every (sample, channel) feature map before and after each "
             "layer. BatchNorm zeroes each channel's mean over the batch, LayerNorm each sample's "
             "mean, GroupNorm each sample's mean within a group of channels, InstanceNorm every cell.")


def _alexnet(grouped: bool) -> nn.Sequential:
    g = 2 if grouped else 1
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=g), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=g), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=g), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
        nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))


def _classic_nets(c):
    c.section("6. LeNet-5 (32x32 grey) and AlexNet (227x227 colour)")
    c.say(summarize(LeNet5(), (1, 32, 32)).table())
    lenet = sum(p.numel() for p in LeNet5().parameters())
    c.number("lenet_params", lenet, "LeNet-5 parameters", ".0f")
    net = _alexnet(grouped=False)
    summary = summarize(net, (3, 227, 227))
    c.say(summary.table())
    c.number("alexnet_params", summary.total_params, "AlexNet parameters, one tower (no groups)", ".0f")
    grouped = sum(p.numel() for p in _alexnet(grouped=True).parameters())
    c.number("alexnet_grouped_params", grouped, "AlexNet parameters with the original two-GPU groups", ".0f")
    fc = sum(m.weight.numel() + m.bias.numel() for m in net if isinstance(m, nn.Linear))
    c.number("alexnet_fc_share", fc / summary.total_params, "share of AlexNet's parameters in its FC layers", ".3f")


def run(c) -> None:
    _arithmetic(c)
    _receptive_fields(c)
    _edges(c)
    _upsampling(c)
    _normalisation(c)
    _classic_nets(c)
