"""Bad input to layers: shape mismatches, integer arrays and NaN/inf raise InputError naming the
layer and the shapes; bad constructor arguments raise ConfigError."""

from __future__ import annotations

import numpy as np
import pytest

from dlcc.errors import ConfigError, InputError
from dlcc.scratch.layers import (GELU, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout,
                                 Embedding, Flatten, LayerNorm, Linear, MaxPool2d, ReLU,
                                 Sequential, Sigmoid, Softmax)
from dlcc.scratch.models import mlp

ONES = np.ones


@pytest.mark.parametrize("layer,x,match", [
    (Linear(4, 3), ONES((2, 5)), r"Linear\(4 -> 3\): input has shape \(2, 5\), expected last dimension 4"),
    (Linear(4, 3), ONES((2, 4), dtype=np.int64), r"Linear\(4 -> 3\): input has dtype int64"),
    (Conv2d(3, 8, 3), ONES((2, 3, 8)), r"Conv2d\(3 -> 8, kernel 3x3\): input has shape \(2, 3, 8\) \(3-D\), expected 4-D"),
    (Conv2d(3, 8, 3), ONES((2, 1, 8, 8)), r"Conv2d.*shape \(2, 1, 8, 8\), expected size 3 on axis 1"),
    (Conv2d(3, 8, 5), ONES((1, 3, 4, 4)), r"Conv2d.*\(1, 3, 4, 4\) is smaller than the kernel"),
    (MaxPool2d(2), ONES((4, 4)), r"MaxPool2d.*\(4, 4\) \(2-D\), expected 4-D"),
    (AvgPool2d(3), ONES((1, 1, 2, 2)), r"AvgPool2d.*\(1, 1, 2, 2\) is smaller than the window"),
    (BatchNorm1d(4), ONES((2, 3)), r"BatchNorm1d\(4\).*\(2, 3\), expected size 4 on axis 1"),
    (BatchNorm2d(4), ONES((2, 4)), r"BatchNorm2d\(4\).*\(2, 4\) \(2-D\), expected 4-D"),
    (LayerNorm(5), ONES((2, 4)), r"LayerNorm\(\(5,\)\): input has shape \(2, 4\)"),
    (Flatten(2, 3), ONES((2, 3)), r"Flatten.*\(2, 3\) has no axes 2..3"),
    (Softmax(dim=2), ONES((2, 3)), r"Softmax\(dim=2\).*\(2, 3\).*no axis 2"),
    (Embedding(10, 3), np.array([1, 10]), r"Embedding\(10, 3\).*range over \[1, 10\], expected \[0, 9\]"),
    (Embedding(10, 3), np.array([1.0, 2.0]), r"Embedding\(10, 3\): ids have dtype float64"),
    (ReLU(), ONES((2, 3), dtype=bool), r"ReLU\(\): input has dtype bool"),
])
def test_forward_rejects_bad_shapes_and_dtypes(layer, x, match):
    with pytest.raises(InputError, match=match):
        layer.forward(x)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("layer,shape", [(Linear(3, 2), (2, 3)), (Conv2d(1, 1, 2), (1, 1, 3, 3)),
                                         (Sigmoid(), (2, 2)), (BatchNorm1d(3), (2, 3)),
                                         (GELU(), (4,)), (Dropout(0.5), (3,))])
def test_forward_rejects_nan_and_inf(layer, shape, bad):
    x = np.ones(shape)
    x.reshape(-1)[1] = bad
    with pytest.raises(InputError, match=r"contains 1 NaN/inf values"):
        layer.forward(x)


def test_backward_checks_the_upstream_gradient():
    layer = Linear(3, 2)
    with pytest.raises(InputError, match=r"Linear\(3 -> 2\): backward called before forward"):
        layer.backward(np.ones((4, 2)))
    layer.forward(np.ones((4, 3)))
    with pytest.raises(InputError, match=r"dy has shape \(4, 3\), expected .* \(4, 2\)"):
        layer.backward(np.ones((4, 3)))
    with pytest.raises(InputError, match=r"dy of shape \(4, 2\) contains 1 NaN/inf"):
        layer.backward(np.array([[1.0, np.nan]] + [[0.0, 0.0]] * 3))
    conv = Conv2d(1, 2, 3)
    conv.forward(np.ones((1, 1, 5, 5)))
    with pytest.raises(InputError, match=r"Conv2d.*dy has shape \(1, 2, 5, 5\).*\(1, 2, 3, 3\)"):
        conv.backward(np.ones((1, 2, 5, 5)))


def test_sequential_names_the_failing_layer():
    model = mlp([6, 4, 2])
    with pytest.raises(InputError, match=r"Sequential layer 0: Linear\(6 -> 4\): input has shape \(3, 5\)"):
        model.forward(np.ones((3, 5)))
    model.forward(np.ones((3, 6)))
    with pytest.raises(InputError, match=r"Sequential layer 2: .*dy has shape \(3, 3\)"):
        model.backward(np.ones((3, 3)))
    # Messages carry the fix, as every DlccError does.
    with pytest.raises(InputError) as info:
        model.forward(np.full((3, 6), np.nan))
    assert "fix:" in str(info.value)


@pytest.mark.parametrize("build", [
    lambda: Linear(0, 3), lambda: Linear(3.5, 2), lambda: Conv2d(3, 4, 0),
    lambda: Conv2d(3, 4, 3, groups=2), lambda: Conv2d(3, 4, 3, stride=2, padding="same"),
    lambda: Conv2d(3, 4, 2, padding="same"), lambda: Conv2d(3, 4, 3, padding=-1),
    lambda: MaxPool2d(2, padding=2), lambda: Dropout(1.5), lambda: GELU("fast"),
    lambda: BatchNorm2d(4, momentum=2.0), lambda: Embedding(5, 2, padding_idx=5),
    lambda: LayerNorm(()), lambda: Sequential(Linear(2, 2), "relu"),
    lambda: mlp([784]), lambda: mlp([4, 2], activation="swish"), lambda: mlp([4, 3, 2], dropout=1.0),
])
def test_bad_constructor_arguments_raise_config_error(build):
    with pytest.raises(ConfigError):
        build()


def test_load_state_dict_shape_mismatch_names_the_key():
    model = mlp([4, 3, 2])
    state = model.state_dict()
    state["2.weight"] = np.ones((3, 3))
    with pytest.raises(InputError, match=r"2.weight has shape \(3, 3\), expected \(2, 3\)"):
        model.load_state_dict(state)
