"""Hidden tests for FGSM, saliency maps, SmoothGrad and TorchScript: agreement with the solution
on random inputs and several batches, accuracy bookkeeping, a loss with a known gradient, and
the course's generator scripted."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close

FGSM, VIS, SAVE = "a5_fast_gradient_sign", "a5_model_visualization", "a5_model_saving_loading"


def data(seed, n=10):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, 1, 4, 4)).astype(np.float32), rng.integers(0, 3, size=n)


@pytest.mark.task("A5.7")
def test_adversarial_examples_match_solution(student, solution):
    rng = np.random.default_rng(70)
    x = rng.uniform(-1, 1, size=(3, 2, 5, 5)).astype(np.float32)
    dx = rng.normal(size=(3, 2, 5, 5)).astype(np.float32)
    dx[0, 0, 0, :2] = 0.0                                  # sign(0) = 0: no move
    for eps in (0.0, 0.01, 0.5, 3.0):
        got = student.module("checking").call(FGSM, "compute_adversarial_examples", x, dx, eps)
        exp = solution.module("checking").call(FGSM, "compute_adversarial_examples", x, dx, eps)
        assert_close(got, exp, rtol=1e-6, atol=1e-7, name=f"x_adv for epsilon {eps}")


@pytest.mark.task("A5.7", weight=2)
@pytest.mark.parametrize("eps", [0.05, 0.4])
def test_attack_over_several_batches_matches_solution(student, solution, eps):
    x, y = data(71, n=11)
    check, ref = student.module("checking"), solution.module("checking")
    got = check.call(FGSM, "run_fast_gradient_sign_attack", check.tiny_classifier(4), eps, check.loader(x, y, 4))
    exp = ref.call(FGSM, "run_fast_gradient_sign_attack", ref.tiny_classifier(4), eps, ref.loader(x, y, 4))
    for i, name in enumerate(("accuracy", "accuracy_adv", "images", "images_adv", "labels_adv")):
        assert_close(got[i], exp[i], rtol=1e-5, atol=1e-6, name=f"{name} (epsilon {eps}, batches of 4, 4, 3)")


@pytest.mark.task("A5.8")
def test_saliency_of_a_known_loss(student, solution):
    check = student.module("checking")
    x, _ = data(80, n=4)
    targets = np.random.default_rng(81).normal(size=(4, 3)).astype(np.float32)
    model = check.tiny_classifier(5)
    got = check.call(VIS, "compute_saliency_map", model, x, targets, check.sum_of_squares_loss())
    ref = solution.module("checking")
    exp = ref.call(VIS, "compute_saliency_map", ref.tiny_classifier(5), x, targets, ref.sum_of_squares_loss())
    assert_close(got, exp, rtol=1e-4, atol=1e-6, name="saliency of sum((model(x) - t)^2)")


@pytest.mark.task("A5.8")
def test_smoothgrad_matches_solution(student, solution):
    x, y = data(82, n=5)
    kwargs = {"sigma": 0.05, "num_rep": 7, "seed": 3}
    check, ref = student.module("checking"), solution.module("checking")
    got = check.call(VIS, "compute_smoothing_grad_saliency_maps", check.tiny_classifier(6), x, y,
                     check.cross_entropy(), **kwargs)
    exp = ref.call(VIS, "compute_smoothing_grad_saliency_maps", ref.tiny_classifier(6), x, y,
                   ref.cross_entropy(), **kwargs)
    assert_close(got, exp, rtol=1e-4, atol=1e-7, name="SmoothGrad (sigma 0.05, 7 copies, seed 3)")
    one = check.call(VIS, "compute_smoothing_grad_saliency_maps", check.tiny_classifier(6), x, y,
                     check.cross_entropy(), sigma=0.0, num_rep=3, seed=0)
    plain = check.call(VIS, "compute_saliency_map", check.tiny_classifier(6), x, y, check.cross_entropy())
    assert_close(one, plain, rtol=1e-5, atol=1e-7, name="SmoothGrad with sigma 0 (= the saliency map)")


@pytest.mark.task("A5.9")
def test_conversion_happens_in_eval_mode(student):
    """BatchNorm with its running statistics and no dropout: a model converted in training mode
    gives other outputs."""
    check = student.module("checking")
    model = check.tiny_cnn(1)
    x = np.random.default_rng(90).normal(size=(5, 1, 6, 6)).astype(np.float32)
    for method in ("trace", "script"):
        got = check.torchscript_round_trip(SAVE, model, x[:2], x, method)
        assert got["loads_alone"], f"{method}: not a TorchScript file"
        assert_close(got["out"], got["reference"], rtol=1e-5, atol=1e-6,
                     name=f"{method}d CNN with BatchNorm and dropout (eval mode)")
