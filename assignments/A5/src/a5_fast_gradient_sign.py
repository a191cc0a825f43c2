"""A5: adversarial examples with the fast gradient sign method (FGSM, Goodfellow et al. 2015).

    x_adv = clamp(x + epsilon * sign(d loss / d x), -1, 1)

One gradient step on the *input*, in the direction that raises the classifier's loss most per
unit of L-infinity change. The course attacked its CIFAR-10 ResNet; here the model is dlcc's
MNIST classifier (util.load_classifier(), images in [-1, 1]):

    python a5_fast_gradient_sign.py               # the course's epsilons, 1,000 test images

writes result/fast_gradient_sign_attack/plot_epsilons_vs_accuracy.png and a panel of
examples (true -> predicted) per epsilon. dlcc's toolkit version, with PGD and any trained
run: `dlcc attack RUN_DIR --eps ...`. Check your work with `dlcc course test A5`.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import util

EPSILONS = [0, 0.002, 0.004, 0.006, 0.008, 0.1, 0.2]


def compute_adversarial_examples(x: torch.Tensor, dx: torch.Tensor, epsilon: float) -> torch.Tensor:
    """x moved by epsilon in the sign of the gradient dx, clamped to the image range [-1, 1]."""
    # === BEGIN SOLUTION A5.7 ===
    x_adv = torch.clamp(x + epsilon * dx.sign(), -1.0, 1.0)
    # === END SOLUTION ===
    return x_adv


def run_fast_gradient_sign_attack(model: nn.Module, epsilon: float, loader, device="cpu"):
    """Attack every batch of `loader` ((x, y) batches) with FGSM on the cross-entropy loss.

    Returns (accuracy, accuracy_adv, images, images_adv, labels_adv): accuracy on the clean
    and on the adversarial images (floats), and the clean images, adversarial images and the
    model's labels of the adversarial images, all batches concatenated (on the CPU).
    """
    model.eval()
    loss_func = nn.CrossEntropyLoss()
    correct = correct_adv = total = 0
    images, images_adv, labels_adv = [], [], []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        # === BEGIN SOLUTION A5.7 ===
        # HINT: x.clone().requires_grad_(True), the loss of the model's output, backward, x.grad
        x_in = x.clone().requires_grad_(True)
        logits = model(x_in)
        loss = loss_func(logits, y)
        model.zero_grad()
        loss.backward()
        x_adv = compute_adversarial_examples(x, x_in.grad, epsilon)
        with torch.no_grad():
            pred_adv = model(x_adv).argmax(1)
        correct += int((logits.argmax(1) == y).sum())
        correct_adv += int((pred_adv == y).sum())
        # === END SOLUTION ===
        total += len(y)
        images.append(x.detach().cpu())
        images_adv.append(x_adv.detach().cpu())
        labels_adv.append(pred_adv.cpu())
    return (correct / total, correct_adv / total, torch.cat(images), torch.cat(images_adv), torch.cat(labels_adv))


def main(argv=None):
    parser = argparse.ArgumentParser(description="A5: FGSM against dlcc's MNIST classifier")
    parser.add_argument("--n", type=int, default=1000, help="test images attacked")
    parser.add_argument("--epsilons", type=float, nargs="+", default=EPSILONS)
    args = parser.parse_args(argv)
    model = util.load_classifier()
    x, y = util.load_mnist("test", args.n)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=100)
    out = util.RESULT_DIR / "fast_gradient_sign_attack"
    accuracies = []
    for eps in args.epsilons:
        acc, acc_adv, images, adv, labels_adv = run_fast_gradient_sign_attack(model, eps, loader)
        accuracies.append(acc_adv)
        print(f"epsilon {eps:g}: accuracy {acc:.3f} -> {acc_adv:.3f}")
        titles = [f"{int(t)}->{int(p)}" for t, p in zip(y[:8], labels_adv[:8])]
        util.plot_image_row({"clean": images[:8], f"eps {eps:g}": adv[:8]},
                            out / f"adversarial_examples_epsilon{eps:g}.png", titles)
    util.plot_curves({"accuracy on adversarial images": accuracies}, out / "plot_epsilons_vs_accuracy.png",
                     title="FGSM: accuracy against epsilon (x: index into --epsilons)", xlabel="epsilon index")


if __name__ == "__main__":
    main()
