"""Lecture 11 companion: adversarial examples and visualisation, on scikit-learn's 8x8 digits.

1. A small CNN trained in seconds on the digits (pixels in [0, 1]).
2. FGSM and PGD (dlcc.attacks): accuracy against the L-inf budget ε, and one adversarial
   example with its perturbation.
3. A black-box attack: FGSM examples made on a substitute MLP the attacker trained itself,
   tried on the CNN it never saw (transfer).
4. Attribution maps (dlcc.interpret): saliency, SmoothGrad, integrated gradients, Grad-CAM and
   occlusion for a few test digits.
5. The model-randomisation sanity check: rank correlation of each map with itself as the CNN's
   layers are re-drawn from the output back to the input.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcc.attacks import accuracy_under_attack, fgsm, make_attack
from dlcc.interpret import attribute, cascading_randomisation, explainer, to_map
from dlcc.lectures.plotting import new_figure
from dlcc.lectures.torchfit import accuracy, fit

EPS = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]


def digits():
    """scikit-learn's digits as tensors: x `[N, 1, 8, 8]` in [0, 1], y `[N]`; a fixed 75/25 split."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.tensor(data.images / 16.0, dtype=torch.float32)[:, None]
    y = torch.tensor(data.target, dtype=torch.int64)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    cut = int(0.75 * len(x))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def small_cnn() -> nn.Sequential:
    """`[B, 1, 8, 8]` -> logits `[B, 10]`: two 3x3 convolutions (16, 32 channels), 2x2 max-pool,
    a linear layer. Grad-CAM reads the second convolution (8x8 maps)."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 4 * 4, 10))


def substitute_mlp() -> nn.Sequential:
    """The attacker's own model: an MLP on the flattened pixels, `[B, 1, 8, 8]` -> `[B, 10]`."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def _train(c, data):
    c.section("1. A small CNN on the 8x8 digits")
    x_tr, y_tr, x_te, y_te = data
    torch.manual_seed(0)
    model = small_cnn()
    fit(model, x_tr, y_tr, epochs=c.steps(10, 30), lr=3e-3, batch_size=64)
    c.say(f"{len(x_tr)} training and {len(x_te)} test images, pixels scaled to [0, 1]")
    c.number("clean_accuracy", accuracy(model, x_te, y_te), "test accuracy of the CNN", ".3f")
    return model


def _attacks(c, model, data):
    c.section("2. FGSM and PGD: accuracy against the budget ε (L-inf, pixels in [0, 1])")
    _, _, x_te, y_te = data
    curves = {}
    for name, attack in (("FGSM", make_attack("fgsm")),
                         ("PGD, 10 steps", make_attack("pgd", steps=10, generator=torch.Generator().manual_seed(0)))):
        rows = accuracy_under_attack(model, x_te, y_te, EPS, attack)
        curves[name] = [r["accuracy"] for r in rows]
    c.table(["ε", *curves], [[e, *(curves[k][i] for k in curves)] for i, e in enumerate(EPS)], ".3f")
    c.number("fgsm_accuracy_eps_0.1", curves["FGSM"][EPS.index(0.1)], "FGSM accuracy at ε = 0.1", ".3f")
    c.number("pgd_accuracy_eps_0.1", curves["PGD, 10 steps"][EPS.index(0.1)], "PGD accuracy at ε = 0.1", ".3f")
    c.number("pgd_accuracy_eps_0.2", curves["PGD, 10 steps"][EPS.index(0.2)], "PGD accuracy at ε = 0.2", ".3f")
    i = int((model(x_te[:64]).argmax(1) == y_te[:64]).nonzero()[0])    # a correctly classified test digit
    x, y = x_te[i:i + 1], y_te[i:i + 1]
    adv = fgsm(model, x, y, 0.15)
    with torch.no_grad():
        p_clean, p_adv = model(x).softmax(1)[0], model(adv).softmax(1)[0]
    fig = new_figure(1, 4, size=(11, 3.0))[0]
    a0, a1, a2, a3 = fig.axes
    for name, vals in curves.items():
        a0.plot(EPS, vals, "o-", label=name)
    a0.set_xlabel("ε (max change of any pixel)")
    a0.set_ylabel("test accuracy")
    a0.legend(fontsize=8)
    for ax, img, title in ((a1, x[0, 0], f"clean: {int(p_clean.argmax())} ({p_clean.max():.2f})"),
                           (a2, (adv - x)[0, 0], "perturbation (ε = 0.15)"),
                           (a3, adv[0, 0], f"adversarial: {int(p_adv.argmax())} ({p_adv.max():.2f})")):
        ax.imshow(img.detach().numpy(), cmap="RdBu_r" if "pert" in title else "gray",
                  vmin=-0.15 if "pert" in title else 0, vmax=0.15 if "pert" in title else 1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    c.number("example_changed", float(p_adv.argmax() != y[0]), "the FGSM example changes the prediction (1 = yes)", ".0f")
    c.figure("attacks", fig, "Left: accuracy of the digits CNN under FGSM (one signed-gradient step) "
             "and PGD (ten projected steps) as the per-pixel budget ε grows; PGD is the stronger attack. "
             "Right: a test digit, the FGSM perturbation ε·sign(∇ₓ loss), and the result with the "
             "model's prediction and confidence.")


def _black_box(c, model, data):
    c.section("3. A black-box attack: FGSM on the attacker's own substitute model, tried on the CNN")
    x_tr, y_tr, x_te, y_te = data
    torch.manual_seed(1)
    sub = substitute_mlp()
    fit(sub, x_tr, y_tr, epochs=c.steps(20, 40), lr=3e-3, batch_size=64, seed=1)
    c.number("substitute_accuracy", accuracy(sub, x_te, y_te), "substitute MLP's own test accuracy", ".3f")
    rows = []
    for eps in (0.1, 0.2, 0.3):
        adv = fgsm(sub, x_te, y_te, eps)                       # gradients of the substitute only
        noise = (x_te + eps * torch.randint(0, 2, x_te.shape, generator=torch.Generator().manual_seed(0)).float()
                 .mul(2).sub(1)).clamp(0, 1)                   # same size, random signs: the control
        rows.append([eps, accuracy(model, adv, y_te), accuracy(model, noise, y_te)])
    c.table(["ε", "CNN accuracy on transferred FGSM", "CNN accuracy on random ±ε noise"], rows, ".3f")
    c.number("transfer_accuracy_eps_0.2", rows[1][1], "CNN accuracy on examples made on the substitute, ε = 0.2", ".3f")
    c.number("random_sign_accuracy_eps_0.2", rows[1][2], "CNN accuracy under random-sign noise, ε = 0.2", ".3f")


def _maps(c, model, data):
    c.section("4. Attribution maps: saliency, SmoothGrad, integrated gradients, Grad-CAM, occlusion")
    x_te = data[2]
    x, target = x_te[:4], model(x_te[:4]).argmax(1).detach()
    options = {"saliency": {}, "smoothgrad": {"samples": c.steps(16, 50), "noise": 0.15},
               "integrated_gradients": {"steps": 32}, "gradcam": {},
               "occlusion": {"window": (2, 2), "stride": (1, 1)}}
    maps = {m: to_map(m, attribute(m, model, x, target, **o)).detach() for m, o in options.items()}
    fig, axes = new_figure(len(x), 1 + len(maps), size=(10.5, 7.2))
    for r in range(len(x)):
        axes[r, 0].imshow(x[r, 0].numpy(), cmap="gray")
        axes[r, 0].set_title(f"input, predicted {int(target[r])}" if r == 0 else f"predicted {int(target[r])}", fontsize=8)
        for col, (name, m) in enumerate(maps.items(), 1):
            if name == "integrated_gradients":       # signed: white is 0, red for, blue against
                lim = float(m[r].abs().max()) or 1.0
                axes[r, col].imshow(m[r].numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim)
            else:
                axes[r, col].imshow(m[r].numpy(), cmap="inferno")
            if r == 0:
                axes[r, col].set_title(name.replace("_", " "), fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    c.figure("attribution_maps", fig, "Four test digits and five explanations of the predicted class. "
             "Gradient maps (saliency, SmoothGrad) mark pixels whose change would move the score; "
             "integrated gradients split the score among pixels (red for, blue against); Grad-CAM "
             "weights the last convolution's feature maps; occlusion measures the drop when a 2x2 "
             "patch is blanked.")
    return maps


def _sanity(c, model, data):
    c.section("5. Sanity check: do the maps change when the model's weights are destroyed?")
    _, _, x_te, _ = data
    x = x_te[:16]
    target = model(x).argmax(1).detach()
    curves = {}
    for name, fn in (("saliency", explainer("saliency")), ("SmoothGrad", explainer("smoothgrad", samples=16)),
                     ("Grad-CAM", explainer("gradcam")),
                     ("the input itself (an 'edge detector')", lambda m, xx, t: xx[:, 0].abs())):
        rows = cascading_randomisation(model, x, target, fn, seed=0)
        curves[name] = [1.0] + [r["spearman"] for r in rows]
        names = {"0": "conv1", "2": "conv2", "6": "linear"}     # small_cnn's Sequential indices
        layers = ["none"] + [names.get(r["layer"], r["layer"]) for r in rows]
    c.table(["randomised up to layer", *curves], [[layers[i], *(curves[k][i] for k in curves)]
                                                  for i in range(len(layers))], ".3f")
    c.number("sanity_saliency_all_random", curves["saliency"][-1], "saliency: rank correlation after all layers are re-drawn", ".3f")
    c.number("sanity_gradcam_all_random", curves["Grad-CAM"][-1], "Grad-CAM: rank correlation after all layers are re-drawn", ".3f")
    c.number("sanity_input_all_random", curves["the input itself (an 'edge detector')"][-1],
             "the input as a 'map': rank correlation after all layers are re-drawn", ".3f")
    fig, ax = new_figure(size=(6.5, 3.6))
    for name, vals in curves.items():
        ax.plot(range(len(vals)), vals, "o-", label=name)
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels(["trained"] + [f"from {n}" for n in layers[1:]], fontsize=8)
    ax.set_xlabel("layers re-drawn (cumulative, output first)")
    ax.set_ylabel("rank correlation with the trained map")
    ax.axhline(0, color="0.6", ls=":")
    ax.legend(fontsize=7)
    c.figure("sanity_check", fig, "The model-randomisation test: each layer of the CNN, from the output "
             "back, is replaced by random weights of the same scale and the maps are computed again. Maps "
             "that explain the model lose their resemblance to the trained ones; a 'map' that is really a "
             "picture of the input (flat at 1) does not change at all, and the test exposes it.")


def run(c) -> None:
    data = digits()
    model = _train(c, data)
    _attacks(c, model, data)
    _black_box(c, model, data)
    _maps(c, model, data)
    _sanity(c, model, data)
