"""Public tests for the GAN: the networks and losses of gan.py, the training step of a5_gan.py
and the conditional losses of a5_conditional_gan.py.

Run them with `dlcc course test A5`. The grader runs more (hidden) tests on every task.
"""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape

G_LAYERS = {"fc.0": "Linear", "fc.1": "BatchNorm1d", "fc.2": "ReLU", "fc.3": "Linear", "fc.4": "BatchNorm1d",
            "fc.5": "ReLU", "conv.0": "PixelShuffle", "conv.1": "Conv2d", "conv.2": "BatchNorm2d", "conv.3": "ReLU",
            "conv.4": "PixelShuffle", "conv.5": "Conv2d", "conv.6": "Tanh"}
D_LAYERS = {"conv.0": "Conv2d", "conv.1": "BatchNorm2d", "conv.2": "LeakyReLU", "conv.3": "Conv2d",
            "conv.4": "BatchNorm2d", "conv.5": "LeakyReLU", "fc.0": "Linear", "fc.1": "BatchNorm1d",
            "fc.2": "LeakyReLU", "fc.3": "Linear"}


def softplus(t):
    return np.logaddexp(0.0, t)


@pytest.mark.task("A5.1")
def test_generator_layers_and_size(student):
    check = student.module("checking")
    G = check.build("gan", "Generator", D=64, C=1)
    types = check.layer_types(G)
    assert {k: types.get(k) for k in G_LAYERS} == G_LAYERS, f"layers: {types}"
    assert check.num_parameters(G) == 1_654_121
    assert check.num_parameters(check.build("gan", "Generator", D=64, C=1, num_classes=10)) == 1_659_241


@pytest.mark.task("A5.1")
def test_generator_output_shape_and_range(student):
    check = student.module("checking")
    G = check.build("gan", "Generator", D=16, C=1)
    z = np.random.default_rng(0).normal(size=(5, 16)).astype(np.float32) * 3
    out = check.forward(G, z, train=True)
    assert_shape(out, (5, 1, 28, 28), name="G(z)")
    assert np.abs(out).max() <= 1.0, "images must be in [-1, 1] (a tanh at the end)"
    labels = np.array([0, 1, 2, 9, 3])
    out = check.forward(check.build("gan", "Generator", D=16, C=3, num_classes=10), z, labels)
    assert_shape(out, (5, 3, 28, 28), name="G(z, y) with C=3")


@pytest.mark.task("A5.2")
def test_discriminator_layers_and_outputs(student):
    check = student.module("checking")
    D = check.build("gan", "Discriminator", H=28, W=28, C=1, num_classes=1)
    types = check.layer_types(D)
    assert {k: types.get(k) for k in D_LAYERS} == D_LAYERS, f"layers: {types}"
    assert check.num_parameters(D) == 1_641_249
    x = np.random.default_rng(1).normal(size=(4, 1, 28, 28)).astype(np.float32)
    assert_shape(check.forward(D, x, train=True), (4, 1), name="D(x)")
    D10 = check.build("gan", "Discriminator", H=32, W=32, C=3, num_classes=10)
    assert_shape(check.forward(D10, np.zeros((2, 3, 32, 32), np.float32), train=True), (2, 10),
                 name="D(x) for 32x32x3 images and 10 outputs")


@pytest.mark.task("A5.3")
def test_gan_losses_known_values(student):
    check = student.module("checking")
    real = np.array([[2.0], [-1.0], [0.5]], np.float32)
    fake = np.array([[-3.0], [0.0], [1.5]], np.float32)
    got = check.loss_and_grads("gan", "loss_D", real, fake)
    assert_close(got["loss"], softplus(-real).mean() + softplus(fake).mean(), rtol=1e-5, name="loss_D")
    got = check.loss_and_grads("gan", "loss_G", fake)
    assert_close(got["loss"], softplus(-fake).mean(), rtol=1e-5, name="loss_G")
    assert_close(got["grads"][0], -1 / (1 + np.exp(fake)) / 3, rtol=1e-4, name="d loss_G / d logits")


@pytest.mark.task("A5.3")
def test_gan_losses_stay_finite_when_the_discriminator_is_sure(student):
    check = student.module("checking")
    got = check.loss_and_grads("gan", "loss_D", np.array([200.0, -200.0], np.float32),
                               np.array([-200.0, 200.0], np.float32))
    assert np.isfinite(got["loss"]), f"loss_D is {got['loss']} for logits of +-200: compute it from logits"
    assert_close(got["loss"], 200.0, rtol=1e-4, name="loss_D for one very wrong real and one very wrong fake")


@pytest.mark.task("A5.4")
def test_gradient_penalty_of_known_critics(student):
    check = student.module("checking")
    rng = np.random.default_rng(2)
    real, fake = (rng.normal(size=(6, 1, 2, 2)).astype(np.float32) for _ in range(2))
    w = np.full((1, 1, 2, 2), 1.5, np.float32)                       # ||w|| = 3: penalty (3 - 1)^2
    got = check.penalty("gan", "linear", real, fake, seed=0, w=w)
    assert_close(got["value"], 4.0, rtol=1e-5, name="penalty of a linear critic with ||w|| = 3")
    assert got["grad_w"] is not None, "the penalty must keep its graph (create_graph=True) to train D"
    assert_close(got["grad_w"], 2 * (3 - 1) * w / 3, rtol=1e-4, name="d penalty / d w")


@pytest.mark.task("A5.4")
def test_wgan_losses_known_values(student):
    check = student.module("checking")
    real, fake = np.array([1.0, 3.0], np.float32), np.array([-1.0, 0.0], np.float32)
    got = check.loss_and_grads("gan", "wgan_loss_D", real, fake, np.array(0.5, np.float32), lamda=10.0)
    assert_close(got["loss"], -0.5 - 2.0 + 5.0, rtol=1e-6, name="wgan_loss_D")
    assert_close(check.loss_and_grads("gan", "wgan_loss_G", fake)["loss"], 0.5, rtol=1e-6, name="wgan_loss_G")


@pytest.mark.task("A5.5")
@pytest.mark.parametrize("loss_type, calls", [("gan", 2 * 2 + 1), ("wgan", 2 * 3 + 1)])
def test_train_step_calls_and_updates(student, loss_type, calls):
    check = student.module("checking")
    x = np.random.default_rng(3).uniform(-1, 1, size=(8, 1, 4, 4)).astype(np.float32)
    parts = check.tiny_gan(seed=0)
    before_g, before_d = check.state_dict(parts[0]), check.state_dict(parts[1])
    got = check.run_steps("a5_gan", "train_step", parts, x, steps=1, loss_type=loss_type, optim_step_D=2)
    d_loss, g_loss = got["losses"][0]
    assert isinstance(d_loss, float) and isinstance(g_loss, float), \
        f"train_step should return two Python floats, got {got['losses'][0]!r}"
    assert got["D_calls"] == calls, (f"with optim_step_D=2 ({loss_type}) D should run {calls} times per step "
                                     f"(real and fake per D step{', plus the penalty' if loss_type == 'wgan' else ''}, "
                                     f"then once for G), it ran {got['D_calls']} times")
    assert not np.allclose(got["G"]["net.weight"], before_g["net.weight"]), "G's weights did not change"
    assert not np.allclose(got["D"]["net.weight"], before_d["net.weight"]), "D's weights did not change"


@pytest.mark.task("A5.6")
def test_conditional_losses_read_the_true_class(student):
    check = student.module("checking")
    real = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -2.0]], np.float32)
    fake = np.array([[1.0, 4.0, -1.0], [-0.5, 2.0, 1.0]], np.float32)
    y = np.array([2, 0])
    picked_real, picked_fake = np.array([2.0, 3.0]), np.array([-1.0, -0.5])
    got = check.loss_and_grads("a5_conditional_gan", "conditional_loss_D", real, fake, y)
    assert_close(got["loss"], softplus(-picked_real).mean() + softplus(picked_fake).mean(), rtol=1e-5,
                 name="conditional_loss_D")
    got = check.loss_and_grads("a5_conditional_gan", "conditional_loss_G", fake, y)
    assert_close(got["loss"], softplus(-picked_fake).mean(), rtol=1e-5, name="conditional_loss_G")
    assert_close(got["grads"][0][0, :2], [0.0, 0.0], name="gradient of the logits of other classes")
