"""Hidden tests for the GAN: the networks against the solution with random weights (training
and eval mode, conditional too), the losses and their gradients on random logits, the
gradient penalty's random mixing, exact agreement of the training step's updates, and the whole
GAN trained briefly on MNIST."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close


def pair(student, solution, cls, seed, **kwargs):
    check, ref = student.module("checking"), solution.module("checking")
    mine, theirs = check.build("gan", cls, **kwargs), ref.build("gan", cls, **kwargs)
    state = check.randomize(mine, seed)
    ref.load_state_dict(theirs, state)
    return check, ref, mine, theirs


@pytest.mark.task("A5.1")
@pytest.mark.parametrize("train", [False, True])
def test_generator_matches_solution(student, solution, train):
    check, ref, G, G_ref = pair(student, solution, "Generator", 11 + train, D=16, C=1)
    z = np.random.default_rng(3).normal(size=(6, 16)).astype(np.float32)
    assert_close(check.forward(G, z, train=train), ref.forward(G_ref, z, train=train), rtol=1e-4, atol=1e-5,
                 name=f"G(z) ({'training' if train else 'eval'} mode)")


@pytest.mark.task("A5.1")
def test_conditional_generator_matches_solution(student, solution):
    check, ref, G, G_ref = pair(student, solution, "Generator", 13, D=8, C=2, num_classes=10)
    z = np.random.default_rng(4).normal(size=(5, 8)).astype(np.float32)
    y = np.array([0, 9, 4, 4, 1])
    assert_close(check.forward(G, z, y), ref.forward(G_ref, z, y), rtol=1e-4, atol=1e-5, name="G(z, y)")


@pytest.mark.task("A5.2")
@pytest.mark.parametrize("train", [False, True])
def test_discriminator_matches_solution(student, solution, train):
    check, ref, D, D_ref = pair(student, solution, "Discriminator", 21 + train, H=32, W=28, C=2, num_classes=3)
    x = np.random.default_rng(5).normal(size=(4, 2, 32, 28)).astype(np.float32)
    assert_close(check.forward(D, x, train=train), ref.forward(D_ref, x, train=train), rtol=1e-4, atol=1e-5,
                 name=f"D(x) ({'training' if train else 'eval'} mode)")


@pytest.mark.task("A5.3")
def test_gan_losses_and_gradients_match_solution(student, solution):
    check, ref = student.module("checking"), solution.module("checking")
    rng = np.random.default_rng(30)
    for shape in ((7,), (7, 1)):
        real, fake = (rng.normal(scale=4, size=shape).astype(np.float32) for _ in range(2))
        for fn, args in (("loss_D", (real, fake)), ("loss_G", (fake,))):
            got, exp = check.loss_and_grads("gan", fn, *args), ref.loss_and_grads("gan", fn, *args)
            assert_close(got["loss"], exp["loss"], rtol=1e-5, name=f"{fn} for logits {shape}")
            for g, e in zip(got["grads"], exp["grads"]):
                assert_close(g, e, rtol=1e-4, atol=1e-7, name=f"gradient of {fn} for logits {shape}")


@pytest.mark.task("A5.4")
def test_gradient_penalty_mixes_with_one_alpha_per_sample(student, solution):
    check, ref = student.module("checking"), solution.module("checking")
    rng = np.random.default_rng(40)
    real = np.zeros((4000, 1, 1, 1), np.float32)
    fake = np.ones((4000, 1, 1, 1), np.float32)
    # critic ||x||²/2: gradient x̂ = alpha, so the penalty is E[(alpha - 1)²] = 1/3 for alpha ~ U(0, 1)
    got = check.penalty("gan", "square", real, fake, seed=1)
    assert_close(got["value"], 1 / 3, atol=0.02, name="penalty with alpha ~ U(0, 1) per sample")
    real, fake = (rng.normal(size=(5, 1, 3, 2)).astype(np.float32) for _ in range(2))
    got, exp = check.penalty("gan", "square", real, fake, seed=2), ref.penalty("gan", "square", real, fake, seed=2)
    assert_close(got["value"], exp["value"], rtol=1e-4, name="penalty (same seed as the solution)")


@pytest.mark.task("A5.4")
def test_wgan_losses_match_solution(student, solution):
    check, ref = student.module("checking"), solution.module("checking")
    rng = np.random.default_rng(41)
    real, fake = (rng.normal(size=(6, 1)).astype(np.float32) for _ in range(2))
    pen = np.array(0.37, np.float32)
    for fn, args, kw in (("wgan_loss_D", (real, fake, pen), {"lamda": 3.0}), ("wgan_loss_G", (fake,), {})):
        got, exp = check.loss_and_grads("gan", fn, *args, **kw), ref.loss_and_grads("gan", fn, *args, **kw)
        assert_close(got["loss"], exp["loss"], rtol=1e-5, name=fn)
        for g, e in zip(got["grads"], exp["grads"]):
            assert_close(g, e, rtol=1e-5, atol=1e-7, name=f"gradient of {fn}")


@pytest.mark.task("A5.5", weight=2)
@pytest.mark.parametrize("loss_type, k", [("gan", 1), ("gan", 3), ("wgan", 2)])
def test_train_step_updates_match_solution(student, solution, loss_type, k):
    check, ref = student.module("checking"), solution.module("checking")
    x = np.random.default_rng(50 + k).uniform(-1, 1, size=(6, 1, 4, 4)).astype(np.float32)
    got = check.run_steps("a5_gan", "train_step", check.tiny_gan(seed=k), x, steps=2, seed=9,
                          loss_type=loss_type, optim_step_D=k, lamda=5.0)
    exp = ref.run_steps("a5_gan", "train_step", ref.tiny_gan(seed=k), x, steps=2, seed=9,
                        loss_type=loss_type, optim_step_D=k, lamda=5.0)
    assert_close(got["losses"], exp["losses"], rtol=1e-4, atol=1e-6, name=f"(loss_D, loss_G) of two steps ({loss_type}, k={k})")
    for net in ("G", "D"):
        for name in exp[net]:
            assert_close(got[net][name], exp[net][name], rtol=1e-4, atol=1e-6,
                         name=f"{net}'s {name} after two steps ({loss_type}, k={k})")


@pytest.mark.task("A5.5", weight=2, timeout=600)
def test_gan_trained_on_mnist_moves_towards_the_digits(student):
    got = student.module("checking").train_gan_on_mnist(steps=300, n=5000)
    # the solution: 2651 before, 256 after 300 steps (500 real training digits: 37)
    assert got["after"] < 0.25 * got["before"], (
        f"after 300 GAN steps on MNIST the Fréchet distance of the samples to test digits went from "
        f"{got['before']:.0f} to {got['after']:.0f} (real training digits: {got['floor']:.0f}); it should fall "
        "below a quarter of where it started")


@pytest.mark.task("A5.6")
def test_conditional_losses_match_solution(student, solution):
    check, ref = student.module("checking"), solution.module("checking")
    rng = np.random.default_rng(60)
    real, fake = (rng.normal(scale=3, size=(8, 10)).astype(np.float32) for _ in range(2))
    y = rng.integers(0, 10, size=8)
    for fn, args in (("conditional_loss_D", (real, fake, y)), ("conditional_loss_G", (fake, y))):
        got = check.loss_and_grads("a5_conditional_gan", fn, *args)
        exp = ref.loss_and_grads("a5_conditional_gan", fn, *args)
        assert_close(got["loss"], exp["loss"], rtol=1e-5, name=fn)
        for g, e in zip(got["grads"], exp["grads"]):
            assert_close(g, e, rtol=1e-4, atol=1e-7, name=f"gradient of {fn}")
