"""Parameter counts (COURSE-SPEC §1.3 where the course gives them) and forward shapes."""

from __future__ import annotations

import pytest
import torch

from dlcc.errors import ConfigError
from dlcc.models import (VGG, AlexNetSmall, Cifar10SmallCNN, Cifar10SmallResNet, LeNet5, PreActResNet18, ResNet18,
                         count_params, get_model, list_models)


def conv(cin, cout, k, bias=True):
    return cin * cout * k * k + (cout if bias else 0)


def test_course_small_cnn_params_match_spec():
    assert count_params(Cifar10SmallCNN(32, 32, 3)) == 3_893_290


def test_course_mobilenet_params_match_spec():
    assert count_params(Cifar10SmallCNN(32, 32, 3, use_mobile_net_conv=True)) == 1_377_784


def test_course_small_resnet_params_match_spec():
    assert count_params(Cifar10SmallResNet(32, 32, 3)) == 6_405_066


def test_lenet5_params_known_value():
    # C1 156 + C3 2,416 + F5 48,120 + F6 10,164 + output 850 (LeCun et al. 1998, full C3 table)
    assert count_params(LeNet5()) == 61_706
    assert count_params(LeNet5(input_size=28)) == 61_706


def test_resnet18_params_known_values():
    assert count_params(ResNet18()) == 11_173_962          # the usual CIFAR ResNet-18 figure
    # the common CIFAR PreActResNet-18 has 11,171,146 without the final BN (2 × 512 params)
    assert count_params(PreActResNet18()) == 11_171_146 + 2 * 512


def test_alexnet_small_params_by_formula():
    convs = conv(3, 64, 3) + conv(64, 192, 3) + conv(192, 384, 3) + conv(384, 256, 3) + conv(256, 256, 3)
    fcs = (4096 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * 10 + 10)
    assert count_params(AlexNetSmall()) == convs + fcs == 7_506_762


def test_vgg16_params_by_formula():
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    cins = [3] + widths[:-1]
    expected = sum(conv(ci, co, 3, bias=False) + 2 * co for ci, co in zip(cins, widths)) + 512 * 10 + 10
    # = the common CIFAR VGG16-BN count 14,728,266 minus its 4,224 redundant conv biases
    assert count_params(VGG("vgg16")) == expected == 14_728_266 - 4_224


@pytest.mark.parametrize("model,shape", [
    (LeNet5(), (2, 1, 32, 32)), (LeNet5(input_size=28), (2, 1, 28, 28)),
    (AlexNetSmall(), (2, 3, 32, 32)), (VGG("vgg11"), (2, 3, 32, 32)),
    (Cifar10SmallCNN(), (2, 3, 32, 32)), (Cifar10SmallCNN(use_mobile_net_conv=True), (2, 3, 32, 32)),
    (Cifar10SmallResNet(), (2, 3, 32, 32)), (ResNet18(), (2, 3, 32, 32)), (PreActResNet18(), (2, 3, 32, 32)),
])
def test_classifier_forward_shape(model, shape):
    out = model(torch.randn(shape))
    assert out.shape == (shape[0], 10)
    assert torch.isfinite(out).all()


def test_small_cnn_other_sizes_and_classes():
    m = Cifar10SmallCNN(H=16, W=24, C=1, num_classes=4)
    assert m(torch.randn(2, 1, 16, 24)).shape == (2, 4)
    with pytest.raises(ConfigError, match="divisible by 8"):
        Cifar10SmallCNN(H=30, W=32)


def test_mobilenet_blocks_are_depthwise():
    m = Cifar10SmallCNN(use_mobile_net_conv=True)
    depthwise = [c for c in m.modules() if isinstance(c, torch.nn.Conv2d) and c.groups > 1]
    assert len(depthwise) == 14 and all(c.groups == c.in_channels == c.out_channels for c in depthwise)


def test_small_resnet_last_conv_gives_1x1():
    m = Cifar10SmallResNet()
    assert m.features(torch.randn(2, 3, 32, 32)).shape == (2, 512, 1, 1)


def test_resnet_backward_reaches_first_layer():
    m = ResNet18(num_classes=3)
    m(torch.randn(2, 3, 16, 16)).sum().backward()
    assert m.stem[0].weight.grad.abs().sum() > 0


def test_registry_builds_every_model():
    for spec in list_models():
        assert count_params(get_model(spec.name)) > 0, spec.name


@pytest.mark.slow
def test_registry_runs_every_model_at_its_default_input():
    for spec in list_models():
        m = get_model(spec.name).eval()
        with torch.no_grad():
            out = m(torch.zeros((2, *spec.input_shape), dtype=spec.input_dtype))
        out = out[0] if isinstance(out, tuple) else out
        assert out.shape[0] == 2, spec.name


def test_registry_kwargs_override_and_errors():
    assert get_model("small-cnn", num_classes=5)(torch.randn(2, 3, 32, 32)).shape == (2, 5)
    assert any(isinstance(m, torch.nn.Conv2d) and m.groups > 1 for m in get_model("small-mobilenet").modules())
    with pytest.raises(ConfigError, match="unknown model 'smal-cnn'") as err:
        get_model("smal-cnn")
    assert "small-cnn" in err.value.fix
    with pytest.raises(ConfigError, match="no argument"):
        get_model("unet", dept=3)
