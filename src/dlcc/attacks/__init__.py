"""Adversarial examples: FGSM and PGD as plain functions, their evaluation, and the batches of
fast adversarial training.

    from dlcc.attacks import fgsm, pgd, accuracy_under_attack
    x_adv = fgsm(model, x, y, eps=8/255)                               # one signed-gradient step
    x_adv = pgd(model, x, y, eps=8/255, steps=20)                       # L-inf, random start
    x_adv = pgd(model, x, y, eps=0.5, norm="l2", steps=20, restarts=5)
    rows = accuracy_under_attack(model, x, y, [0, 2/255, 8/255], make_attack("pgd", steps=20))

Models take pixels in [0, 1] (`dlcc.models.pixels.PixelInput` puts a run's normalisation in
front of its network), so ε is in grey levels: 8/255 is the usual L-inf budget on CIFAR-10.
See docs/interpret.md.
"""

from dlcc.attacks.evaluate import accuracy_under_attack, make_attack
from dlcc.attacks.fgsm import fgsm
from dlcc.attacks.gradient import check_eps, input_gradient
from dlcc.attacks.pgd import pgd
from dlcc.attacks.training import AdversarialBatches

__all__ = ["AdversarialBatches", "accuracy_under_attack", "check_eps", "fgsm", "input_gradient", "make_attack",
           "pgd"]
