"""Public tests for dataset.py (Cifar10Dataset) and model.py (PytorchMLP)."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape


def images(n=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(32, 32, 3, n)).astype(np.float32)   # the course's [H, W, C, N]
    Y = rng.integers(0, 10, size=n).astype(np.int64)
    return X, Y


@pytest.mark.task("A2.4")
def test_dataset_stores_nchw_and_has_a_length(student):
    X, Y = images()
    check = student.module("checking")
    ds = student.module("dataset").Cifar10Dataset(X, Y)
    assert check.dataset_length(ds) == 6, "len(dataset) should be the number of images"
    stored = check.dataset_attribute(ds, "images")
    assert_shape(stored, (6, 3, 32, 32), name="dataset.images")
    assert_close(stored, X.transpose(3, 2, 0, 1), name="dataset.images (image i is X[:, :, :, i] "
                 "with channels first)")


@pytest.mark.task("A2.4")
def test_getitem_without_and_with_transform(student):
    X, Y = images()
    check = student.module("checking")
    ds = student.module("dataset").Cifar10Dataset(X, Y)
    image, label = check.dataset_item(ds, 4)
    assert_shape(image, (3, 32, 32), name="image without transform")
    assert_close(image, X[:, :, :, 4].transpose(2, 0, 1), name="dataset[4] image")
    assert label == Y[4], f"dataset[4] label is {label!r}, expected {Y[4]}"
    # the test transform expects [H, W, C] and returns 2 * image as [C, H, W]
    ds2 = student.module("dataset").Cifar10Dataset(X, Y, check.double_hwc_transform())
    image, label = check.dataset_item(ds2, 2)
    assert_close(image, 2 * X[:, :, :, 2].transpose(2, 0, 1),
                 name="dataset[2] image with a transform (it must get the image as [H, W, C])")


@pytest.mark.task("A2.5")
def test_mlp_course_parameter_count(student):
    model = student.module("model").PytorchMLP(32, 32, 3, [300, 200, 200, 200, 100])
    check = student.module("checking")
    n = check.num_parameters(model)
    assert n == 1_083_610, f"PytorchMLP(32, 32, 3, [300, 200, 200, 200, 100]) has {n:,} parameters, " \
                           "expected 1,083,610"
    types = check.layer_types(model)
    assert types.count("Linear") == 6 and types.count("ReLU") == 5, \
        f"expected 6 Linear layers and 5 ReLUs, found layers {types}"


@pytest.mark.task("A2.5")
def test_mlp_forward_shape(student):
    model = student.module("model").PytorchMLP(32, 32, 3, [20, 10])
    x = np.random.default_rng(1).normal(size=(5, 3, 32, 32)).astype(np.float32)
    logits = student.module("checking").forward(model, x)
    assert_shape(logits, (5, 10), name="logits")
