"""Hidden tests for dataset.py and model.py: a real CIFAR-10 slice, other image geometries,
and the forward pass recomputed from the student's own weights."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape


@pytest.mark.task("A2.4")
def test_dataset_on_a_cifar_slice(student):
    check = student.module("checking")
    X, Y = student.module("util").load_data(limit=(48, 8), seed=5)["train"]
    ds = student.module("dataset").Cifar10Dataset(X, Y)
    assert check.dataset_length(ds) == 48, "len(dataset) on 48 CIFAR images"
    assert_close(check.dataset_attribute(ds, "images"), X.transpose(3, 2, 0, 1), name="dataset.images")
    for idx in (0, 17, 47):
        image, label = check.dataset_item(ds, idx)
        assert_close(image, X[:, :, :, idx].transpose(2, 0, 1), name=f"dataset[{idx}] image")
        assert label == Y[idx], f"dataset[{idx}] label {label!r}, expected {Y[idx]}"
    assert check.item_types(ds, 3) == ["Tensor", "torch.float32", "int"], \
        f"dataset[3] should be (a float32 torch tensor, an int); it is {check.item_types(ds, 3)}"


@pytest.mark.task("A2.4")
def test_dataloader_batches_with_transform(student):
    check = student.module("checking")
    X, Y = student.module("util").load_data(limit=(40, 8), seed=6)["train"]
    ds = student.module("dataset").Cifar10Dataset(X, Y, check.double_hwc_transform())
    indices = [3, 9, 1, 30, 22, 5]
    x, y = check.batch_from_loader(ds, 6, indices)
    assert_shape(x, (6, 3, 32, 32), name="a DataLoader batch of images")
    assert_close(x, 2 * X[:, :, :, indices].transpose(3, 2, 0, 1), name="batch images (transformed)")
    assert_close(y, Y[indices], name="batch labels")


def numpy_mlp(x, params):
    h = x.reshape(len(x), -1).astype(np.float64)
    for i in range(0, len(params), 2):
        h = h @ params[i].T.astype(np.float64) + params[i + 1]
        if i + 2 < len(params):
            h = np.maximum(h, 0)
    return h


@pytest.mark.task("A2.5")
@pytest.mark.parametrize("geometry", [(8, 6, 1, [7, 5]), (16, 16, 3, [50])])
def test_mlp_other_geometries_match_a_manual_forward(student, geometry):
    H, W, C, hidden = geometry
    model = student.module("model").PytorchMLP(H, W, C, hidden)
    check = student.module("checking")
    sizes = [H * W * C, *hidden, 10]
    expected_count = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    count = check.num_parameters(model)
    assert count == expected_count, f"PytorchMLP{geometry} has {count} parameters, expected {expected_count}"
    x = np.random.default_rng(7).normal(size=(4, C, H, W)).astype(np.float32)
    logits = check.forward(model, x)
    assert_shape(logits, (4, 10), name="logits")
    assert_close(logits, numpy_mlp(x, check.get_parameters(model)), rtol=1e-4, atol=1e-5,
                 name="logits (Linear -> ReLU per hidden layer -> Linear, no softmax)")


@pytest.mark.task("A2.5")
def test_mlp_learns_a_cifar_slice(student):
    """Your PytorchMLP, trained by a reference loop on 2,000 real CIFAR-10 images."""
    data = student.module("util").load_data.keep(limit=(2000, 1000), seed=13)
    model = student.module("model").PytorchMLP(32, 32, 3, [300, 100])
    check = student.module("checking")
    losses = check.fit_reference(model, data, 4, 0.05)
    accuracy = check.split_accuracy(model, data, "test")
    assert accuracy > 0.25, f"test accuracy {accuracy:.3f} after 4 epochs on 2,000 images (losses per epoch " \
                            f"{[round(v, 3) for v in losses]}); chance is 0.1, a working MLP reaches about 0.35"
