"""FGSM and PGD: known values on a linear model, parity with captum's attacks, the ε-ball and
value range kept, restarts never weaker, and accuracy falling with ε on a digits classifier."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcc.attacks import accuracy_under_attack, fgsm, input_gradient, make_attack, pgd
from dlcc.errors import InputError


def _linear(seed: int = 0, d: int = 12, k: int = 4) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(d, k))


def _batch(seed: int = 1, n: int = 16, d: int = 12, k: int = 4):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, d, generator=g), torch.randint(0, k, (n,), generator=g)


def test_fgsm_is_the_sign_of_the_analytic_gradient_on_a_linear_model():
    model, (x, y) = _linear(), _batch()
    w, b = model[1].weight, model[1].bias
    with torch.no_grad():
        p = torch.softmax(x.flatten(1) @ w.T + b, 1)
        grad = (p - F.one_hot(y, 4).float()) @ w            # d CE / d x for logits W x + b
    expected = (x.flatten(1) + 0.05 * grad.sign()).clamp(0, 1).view_as(x)
    assert torch.equal(fgsm(model, x, y, 0.05), expected)
    g, losses = input_gradient(model, x, y)
    torch.testing.assert_close(g.flatten(1), grad, rtol=1e-5, atol=1e-6)
    assert losses.shape == (16,) and model[1].weight.grad is None   # parameters untouched


def test_fgsm_and_pgd_match_captum():
    captum = pytest.importorskip("captum.robust")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 5)).eval()
    x, y = torch.rand(6, 3, 8, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    loss = lambda out, target: F.cross_entropy(out, target, reduction="none")   # noqa: E731 (captum: -log p)
    attack = captum.FGSM(model, loss, lower_bound=0.0, upper_bound=1.0)
    attack.zero_thresh = 0.0                      # captum leaves gradients below 1e-6 alone; we do not
    torch.testing.assert_close(fgsm(model, x, y, 0.03), attack.perturb(x, 0.03, y), rtol=0, atol=1e-6)
    attack = captum.PGD(model, loss, lower_bound=0.0, upper_bound=1.0)
    attack.fgsm.zero_thresh = 0.0
    ref = attack.perturb(x, 0.03, 0.01, 7, y, random_start=False)
    torch.testing.assert_close(pgd(model, x, y, 0.03, steps=7, alpha=0.01, random_start=False), ref,
                               rtol=0, atol=1e-6)


def test_randomised_fgsm_starts_in_the_noise_and_projects_only_when_asked():
    model, (x, y) = _linear(), _batch()
    g = lambda: torch.Generator().manual_seed(3)   # noqa: E731
    wong = fgsm(model, x, y, 0.05, random_start=True, generator=g())
    noisy = fgsm(model, x, y, 0.05, random_start=True, noise=0.1, alpha=0.05, project=False, generator=g())
    start = (x + torch.empty_like(x).uniform_(-0.1, 0.1, generator=g())).clamp(0, 1)
    grad, _ = input_gradient(model, start, y)
    torch.testing.assert_close(noisy, (start + 0.05 * grad.sign()).clamp(0, 1))     # N-FGSM by hand
    assert float((wong - x).abs().max()) <= 0.05 + 1e-6 < float((noisy - x).abs().max())


def test_one_pgd_step_of_size_eps_from_the_input_is_fgsm():
    model, (x, y) = _linear(), _batch()
    assert torch.equal(pgd(model, x, y, 0.1, steps=1, alpha=0.1, random_start=False), fgsm(model, x, y, 0.1))


def test_l2_pgd_on_a_linear_margin_moves_along_the_gradient():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(10, 2))
    x, y = torch.full((3, 10), 0.5), torch.tensor([0, 1, 0])
    adv = pgd(model, x, y, 0.2, norm="l2", steps=5, random_start=False)
    w = model[1].weight.detach()
    direction = (w[1] - w[0]) / (w[1] - w[0]).norm()      # the loss of class 0 grows fastest along w1 - w0
    torch.testing.assert_close(adv[0] - x[0], 0.2 * direction, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(adv[1] - x[1], -0.2 * direction, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_stays_in_the_ball_and_the_range_and_raises_the_loss(norm):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 32), nn.Tanh(), nn.Linear(32, 4))
    x, y = torch.rand(20, 3, 4, 4), torch.randint(0, 4, (20,))
    eps = 0.05 if norm == "linf" else 0.5
    adv = pgd(model, x, y, eps, norm=norm, steps=10, generator=torch.Generator().manual_seed(0))
    delta = (adv - x).flatten(1)
    size = delta.abs().amax(1) if norm == "linf" else delta.norm(dim=1)
    assert float(size.max()) <= eps + 1e-6
    assert float(adv.min()) >= 0 and float(adv.max()) <= 1
    with torch.no_grad():
        clean = F.cross_entropy(model(x), y, reduction="none")
        attacked = F.cross_entropy(model(adv), y, reduction="none")
    assert bool((attacked >= clean - 1e-6).all()) and float(attacked.mean()) > float(clean.mean())


def test_restarts_keep_each_samples_strongest_run():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 32), nn.ReLU(), nn.Linear(32, 4))
    x, y = torch.rand(30, 3, 4, 4), torch.randint(0, 4, (30,))
    one = pgd(model, x, y, 0.03, steps=3, generator=torch.Generator().manual_seed(5))
    five = pgd(model, x, y, 0.03, steps=3, restarts=5, generator=torch.Generator().manual_seed(5))
    loss = lambda a: F.cross_entropy(model(a), y, reduction="none")   # noqa: E731
    assert bool((loss(five) >= loss(one) - 1e-6).all())   # the first restart is the single run


@pytest.mark.parametrize("eps", [-0.1, float("nan"), float("inf"), 8.0, "eight"])
def test_eps_outside_its_range_is_a_clear_error(eps):
    model, (x, y) = _linear(), _batch()
    with pytest.raises(InputError, match="eps="):
        pgd(model, x, y, eps)


def test_unbounded_inputs_take_any_eps():
    model, (x, y) = _linear(), _batch()
    adv = fgsm(model, x * 100, y, 8.0, bounds=None)
    assert float((adv - x * 100).abs().max()) == pytest.approx(8.0)


def test_accuracy_falls_with_eps_on_a_trained_digits_classifier():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images / 16.0, dtype=torch.float32)[:, None]   # [1797, 1, 8, 8] in [0, 1]
    y = torch.tensor(digits.target)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(150):
        opt.zero_grad()
        F.cross_entropy(model(x[:1500]), y[:1500]).backward()
        opt.step()
    xt, yt = x[1500:], y[1500:]
    eps = [0.0, 0.02, 0.05, 0.1, 0.2]
    pgd_rows = accuracy_under_attack(model, xt, yt, eps, make_attack("pgd", steps=10,
                                                                   generator=torch.Generator().manual_seed(0)))
    fgsm_rows = accuracy_under_attack(model, xt, yt, eps, make_attack("fgsm"))
    acc = [r["accuracy"] for r in pgd_rows]
    assert acc[0] > 0.9 and acc[-1] < 0.05
    assert all(a >= b for a, b in zip(acc, acc[1:]))
    assert all(p["accuracy"] <= f["accuracy"] + 1e-9 for p, f in zip(pgd_rows, fgsm_rows))   # PGD is stronger
    assert pgd_rows[0] == {"eps": 0.0, "accuracy": acc[0], "correct": round(acc[0] * len(yt)), "n": len(yt)}
