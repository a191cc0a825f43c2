"""Hidden tests for the networks: agreement with the solution (same weights, copied in creation
order) on fresh inputs in eval and training mode, gradients, and short trainings on real
CIFAR-10 images that must beat chance (0.1) by a wide margin."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape


def pair(student, solution, module, cls, *args, seed=0, **kwargs):
    check, ref = student.module("checking"), solution.module("checking")
    mine = getattr(student.module(module), cls)(*args, **kwargs)
    theirs = getattr(solution.module(module), cls)(*args, **kwargs)
    state = ref.random_state(theirs, seed)
    check.load_in_order(mine, state)
    ref.load_in_order(theirs, state)
    return check, ref, mine, theirs


def compare(student, solution, module, cls, args, shapes, seed, kwargs=None, rtol=1e-4, atol=1e-5):
    check, ref, mine, theirs = pair(student, solution, module, cls, *args, seed=seed, **(kwargs or {}))
    rng = np.random.default_rng(seed + 1000)
    xs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    for train in (False, True):
        out, exp = check.forward(mine, *xs, train=train), ref.forward(theirs, *xs, train=train)
        assert_shape(out, exp.shape, name=f"{cls} output")
        assert_close(out, exp, rtol=rtol, atol=atol, name=f"{cls}{tuple(args)} output ({'train' if train else 'eval'} mode)")
    if len(xs) == 1:
        weights = rng.normal(size=exp.shape).astype(np.float32)
        got, want = check.forward_backward(mine, xs[0], weights, train=True), ref.forward_backward(theirs, xs[0], weights, train=True)
        assert_close(got["x"], want["x"], rtol=1e-3, atol=1e-4, name=f"{cls}: gradient with respect to the input")
        for i, (g, w) in enumerate(zip(got["params"], want["params"])):
            assert g is not None, f"{cls}: parameter number {i} gets no gradient"
            assert_close(g, w, rtol=1e-3, atol=1e-4, name=f"{cls}: gradient of parameter number {i}")


@pytest.mark.task("A3.1")
@pytest.mark.parametrize("args, shape", [((3, 3, 4, 6), (3, 4, 9, 9)), ((5, 5, 3, 8), (2, 3, 12, 12))])
def test_block_matches_solution(student, solution, args, shape):
    compare(student, solution, "model", "Block", args, [shape], seed=11)
    compare(student, solution, "model", "BlockDownSample", args, [shape], seed=12)


@pytest.mark.task("A3.2")
def test_small_cnn_matches_solution(student, solution):
    compare(student, solution, "model", "Cifar10SmallCNN", (16, 24, 3), [(3, 3, 16, 24)], seed=13, rtol=1e-3, atol=1e-4)


@pytest.mark.task("A3.3")
def test_mobilenet_matches_solution(student, solution):
    compare(student, solution, "model", "BlockMobileNet", (3, 3, 4, 6), [(3, 4, 9, 9)], seed=14)
    compare(student, solution, "model", "BlockDownSampleMobileNet", (5, 5, 3, 5), [(2, 3, 10, 10)], seed=15)
    compare(student, solution, "model", "Cifar10SmallCNN", (16, 16, 3), [(3, 3, 16, 16)], seed=16,
            kwargs={"use_mobile_net_conv": True}, rtol=1e-3, atol=1e-4)


@pytest.mark.task("A3.4")
def test_resblocks_match_solution(student, solution):
    compare(student, solution, "resnet_model", "ResBlock", (3, 3, 5), [(2, 5, 7, 7)], seed=17)
    compare(student, solution, "resnet_model", "ResBlock", (5, 5, 3), [(2, 3, 8, 8)], seed=18)
    compare(student, solution, "resnet_model", "ResBlockDownSample", (3, 3, 4, 6), [(2, 4, 8, 10)], seed=19)
    compare(student, solution, "resnet_model", "ResBlockDownSample", (5, 3, 4, 6), [(2, 4, 8, 10)], seed=21)
    # ky=5 as well: with 3×3 kernels ky // 2 and ky // 3 are both 1, so a wrong padding would pass.
    compare(student, solution, "resnet_model", "ResBlockDownSample", (3, 5, 4, 6), [(2, 4, 8, 10)], seed=22)


@pytest.mark.task("A3.5")
def test_small_resnet_matches_solution(student, solution):
    compare(student, solution, "resnet_model", "Cifar10SmallResNet", (16, 16, 3), [(3, 3, 16, 16)], seed=20,
            rtol=1e-3, atol=1e-4)


def cifar_16px(solution, per_class, offset, split):
    """A class-balanced CIFAR-10 slice, 2x2-average-pooled to 16x16 (4x cheaper to train on)."""
    x, y = solution.module("util").cifar_slice(per_class, split, offset)
    small = x.reshape(len(x), 16, 2, 16, 2, 3).mean(axis=(2, 4)).round().astype(np.uint8)
    return small, y


def short_training(student, solution, module, cls, kwargs):
    x, y = cifar_16px(solution, 100, 0, "train")
    tx, ty = cifar_16px(solution, 30, 0, "test")
    check = student.module("checking")
    student.module("util").set_seed(0)
    net = getattr(student.module(module), cls)(16, 16, 3, **kwargs)
    losses = check.train_classifier(net, x, y, steps=120, batch_size=32, lr=2e-3)["losses"]
    assert np.all(np.isfinite(losses)), "the training loss became NaN or inf"
    accuracy = check.classifier_accuracy(net, tx, ty, calibrate=x)
    assert accuracy > 0.18, (f"{cls}{kwargs or ''}: test accuracy {accuracy:.3f} after 120 steps on 1,000 "
                             "images, 16x16 pixels (chance: 0.1; the solution reaches 0.24-0.33)")


@pytest.mark.task("A3.2", timeout=300)
def test_small_cnn_short_training_beats_chance(student, solution):
    short_training(student, solution, "model", "Cifar10SmallCNN", {})


@pytest.mark.task("A3.3", timeout=300)
def test_mobilenet_short_training_beats_chance(student, solution):
    short_training(student, solution, "model", "Cifar10SmallCNN", {"use_mobile_net_conv": True})


@pytest.mark.task("A3.5", timeout=300)
def test_small_resnet_short_training_beats_chance(student, solution):
    short_training(student, solution, "resnet_model", "Cifar10SmallResNet", {})
