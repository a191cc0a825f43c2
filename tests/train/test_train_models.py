"""The configurable MLP, the course's PytorchMLP and the 1-D CNN."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcc.errors import ConfigError, InputError
from dlcc.models.cnn1d import CNN1D
from dlcc.models.mlp import MLP, PytorchMLP, count_parameters


def test_course_mlp_has_the_course_parameter_count():
    model = PytorchMLP(32, 32, 3, [300, 200, 200, 200, 100])
    assert count_parameters(model) == 1_083_610
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (3072, 300), (300, 200), (200, 200), (200, 200), (200, 100), (100, 10)]
    # Linear -> ReLU per hidden layer, then the output Linear, nothing else
    kinds = [type(m) for m in model.layers]
    assert kinds == [nn.Linear, nn.ReLU] * 5 + [nn.Linear]


def test_course_mlp_flattens_images_to_logits():
    model = PytorchMLP(32, 32, 3, [64])
    out = model(torch.randn(5, 3, 32, 32))
    assert out.shape == (5, 10) and out.dtype == torch.float32


def test_mlp_options_build_the_expected_layers():
    model = MLP(40, [32, 16], 10, activation="gelu", dropout=0.25, batchnorm=True)
    kinds = [type(m) for m in model.layers]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.GELU, nn.Dropout] * 2 + [nn.Linear]
    assert model(torch.randn(4, 40)).shape == (4, 10)
    # no hidden layers = multinomial logistic regression
    assert count_parameters(MLP(40, [], 10)) == 40 * 10 + 10


def test_mlp_matches_a_hand_written_forward():
    torch.manual_seed(0)
    model = MLP(6, [5], 3)
    x = torch.randn(4, 2, 3)
    w1, b1, w2, b2 = (p.detach() for p in model.parameters())
    expected = torch.relu(x.reshape(4, 6) @ w1.T + b1) @ w2.T + b2
    torch.testing.assert_close(model(x), expected)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"activation": "swishy"}, "unknown activation 'swishy'"),
    ({"dropout": 1.5}, "dropout must be in [0, 1)"),
    ({"hidden": [10, 0]}, "layer sizes must be positive"),
])
def test_mlp_bad_settings_are_config_errors(kwargs, fragment):
    args = {"in_features": 8, "hidden": [4], "num_classes": 2, **kwargs}
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace(")", r"\)")) as info:
        MLP(**args)
    assert info.value.fix


def test_mlp_wrong_input_size_names_both_sizes():
    with pytest.raises(InputError, match="expects 3072 input features per sample, got 784"):
        PytorchMLP(32, 32, 3, [10])(torch.randn(2, 1, 28, 28))


def test_cnn1d_shapes_and_length_bookkeeping():
    model = CNN1D(in_length=40, channels=(8, 16, 16), kernel_size=5, stride=2)
    assert model(torch.randn(3, 40)).shape == (3, 10)        # [B, L]
    assert model(torch.randn(3, 1, 40)).shape == (3, 10)     # [B, 1, L]
    # 40 -> 20 -> 10 -> 5 positions, 16 channels -> 80 features into the head
    assert model.head[-1].in_features == 16 * 5
    two_lead = CNN1D(in_length=100, in_channels=2, channels=(4,), stride=1, batchnorm=True, dropout=0.1)
    assert two_lead(torch.randn(2, 2, 100)).shape == (2, 10)


def test_cnn1d_bad_input_and_settings():
    with pytest.raises(InputError, match=r"expects input \[B, 1, 40\]"):
        CNN1D()(torch.randn(2, 3, 40))
    with pytest.raises(ConfigError, match="kernel_size must be a positive odd number"):
        CNN1D(kernel_size=4)
    with pytest.raises(ConfigError, match="channels must be a non-empty list"):
        CNN1D(channels=())
