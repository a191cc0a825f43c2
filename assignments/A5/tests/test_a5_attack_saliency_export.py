"""Public tests for FGSM (a5_fast_gradient_sign.py), saliency maps and SmoothGrad
(a5_model_visualization.py), and TorchScript (a5_model_saving_loading.py). They use a tiny
classifier with known weights from checking.py, so they run in seconds.

Run them with `dlcc course test A5`. The grader runs more (hidden) tests on every task.
"""

import numpy as np
import pytest
import torch

from dlcc.course.checks import assert_close, assert_shape

FGSM, VIS, SAVE = "a5_fast_gradient_sign", "a5_model_visualization", "a5_model_saving_loading"


def reference_classifier(check, model):
    """The tiny classifier rebuilt here from its weights."""
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    net.load_state_dict({k[4:]: torch.as_tensor(v) for k, v in check.state_dict(model).items()})
    return net


def batch(seed=0, n=6):
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.9, 0.9, size=(n, 1, 4, 4)).astype(np.float32), rng.integers(0, 3, size=n)


@pytest.mark.task("A5.7")
def test_adversarial_examples_step_by_the_sign_and_clamp(student):
    check = student.module("checking")
    x = np.array([[[[0.0, 0.5], [-0.98, 0.99]]]], np.float32)
    dx = np.array([[[[2.0, -0.1], [-3.0, 1e-6]]]], np.float32)
    got = check.call(FGSM, "compute_adversarial_examples", x, dx, 0.05)
    assert_close(got, [[[[0.05, 0.45], [-1.0, 1.0]]]], rtol=1e-6, atol=1e-7, name="x_adv (clamped to [-1, 1])")


@pytest.mark.task("A5.7")
def test_fgsm_attack_on_a_tiny_classifier(student):
    check = student.module("checking")
    model = check.tiny_classifier(0)
    x, y = batch()
    acc, acc_adv, images, adv, labels_adv = check.call(FGSM, "run_fast_gradient_sign_attack", model, 0.0,
                                                       check.loader(x, y, 4))
    assert_close(acc_adv, acc, name="accuracy with epsilon 0 (nothing changes)")
    assert_shape(adv, (6, 1, 4, 4), name="adversarial images")
    net = reference_classifier(check, model)
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(net(xt), torch.as_tensor(y)).backward()
    expected = np.clip(x + 0.3 * np.sign(xt.grad.numpy()), -1, 1)
    acc, acc_adv, images, adv, labels_adv = check.call(FGSM, "run_fast_gradient_sign_attack", model, 0.3,
                                                       check.loader(x, y, 6))
    assert_close(images, x, name="clean images returned")
    assert_close(adv, expected, rtol=1e-5, atol=1e-6, name="adversarial images (epsilon 0.3, one batch of 6)")
    assert_close(labels_adv, net(torch.as_tensor(expected)).argmax(1).numpy(), name="labels of the adversarial images")


@pytest.mark.task("A5.8")
def test_saliency_is_the_gradient_of_the_loss(student):
    check = student.module("checking")
    model = check.tiny_classifier(1)
    x, y = batch(1)
    got = check.call(VIS, "compute_saliency_map", model, x, y, check.cross_entropy())
    net = reference_classifier(check, model)
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(net(xt), torch.as_tensor(y)).backward()
    assert_close(got, xt.grad.numpy(), rtol=1e-4, atol=1e-7, name="saliency map")


@pytest.mark.task("A5.8")
def test_smoothgrad_averages_saliency_over_noisy_copies(student):
    check = student.module("checking")
    model = check.tiny_classifier(2)
    x, y = batch(2, n=3)
    got = check.call(VIS, "compute_smoothing_grad_saliency_maps", model, x, y, check.cross_entropy(),
                     sigma=0.2, num_rep=5, seed=7)
    net = reference_classifier(check, model)
    g, total = torch.Generator().manual_seed(7), 0
    for _ in range(5):
        xt = (torch.as_tensor(x) + 0.2 * torch.randn(x.shape, generator=g)).requires_grad_(True)
        torch.nn.functional.cross_entropy(net(xt), torch.as_tensor(y)).backward()
        total = total + xt.grad.numpy()
    assert_close(got, total / 5, rtol=1e-4, atol=1e-7, name="SmoothGrad (sigma 0.2, 5 copies, seed 7)")


@pytest.mark.task("A5.9")
def test_torchscript_round_trip_gives_the_same_outputs(student):
    check = student.module("checking")
    model = check.tiny_classifier(3)
    x, _ = batch(3)
    for method in ("trace", "script"):
        got = check.torchscript_round_trip(SAVE, model, x[:1], x, method)
        assert got["loads_alone"], f"{method}: the file is not a TorchScript module"
        assert_close(got["out"], got["reference"], rtol=1e-5, atol=1e-6, name=f"outputs of the {method}d model")


@pytest.mark.task("A5.9")
def test_script_keeps_control_flow_and_trace_freezes_it(student):
    check = student.module("checking")
    positive, negative = np.ones((1, 3), np.float32), -np.ones((1, 3), np.float32)
    scripted = check.torchscript_round_trip(SAVE, check.branchy(), positive, negative, "script")
    assert_close(scripted["out"], [[1.0, 1.0, 1.0]], name="scripted model on a negative input (-x)")
    traced = check.torchscript_round_trip(SAVE, check.branchy(), positive, negative, "trace")
    assert_close(traced["out"], [[-2.0, -2.0, -2.0]],
                 name="traced model on a negative input (the trace recorded the positive branch: 2x)")
