"""Public tests for the classification networks: model.py (the small CNN's blocks A3.1, the
network A3.2, the MobileNet blocks A3.3) and resnet_model.py (the pre-activation residual
blocks A3.4, the small ResNet A3.5). Run them with `dlcc course test A3` (or plain `pytest`).

Known values: the tests fill your layers with fixed random weights in the order you created
them (see checking.load_in_order), run a small input, and compare sums and the first values
of the output with the solution's. The grader runs more (hidden) tests, including short
trainings on CIFAR-10 images.
"""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape

MOD = "model"
RES = "resnet_model"
# outputs of the solution with checking.random_state(model, seed) and a seeded N(0, 1) input
EXPECTED = {
    "block": {"shape": (2, 3, 4, 4), "sum": 81.682450, "sumsq": 227.743364, "train_sum": 37.821390,
              "first": [2.165143, 3.369266, 0.53635, 0.0, 3.243292, 6.518548]},
    "mobile": {"shape": (2, 4, 2, 2), "sum": 6.236694, "sumsq": 2.472166, "train_sum": 10.319106,
               "first": [0.496901, 0.34363, 0.466085, 0.443932, 0.423467, 0.21267]},
    "res": {"shape": (2, 2, 4, 4), "sum": -9.284543, "sumsq": 94.681464, "train_sum": -1.241182,
            "first": [0.906624, 2.108476, 1.589562, -0.854418, 0.184848, 1.38367]},
    "resdown": {"shape": (2, 3, 2, 2), "sum": -3.575454, "sumsq": 8.614329, "train_sum": 1.867406,
                "first": [-0.730363, 0.187533, 0.821189, -0.468838, 0.477081, -0.131022]},
}


def known_output(student, layer, seed, shape=(2, 2, 4, 4)):
    check = student.module("checking")
    check.load_in_order(layer, check.random_state(layer, seed))
    x = np.random.default_rng(seed + 100).normal(size=shape).astype(np.float32)
    return check.forward(layer, x), check.forward(layer, x, train=True)


def check_known(out, out_train, expected, what):
    assert_shape(out, expected["shape"], name=f"{what} output")
    assert_close(out.reshape(-1)[:6], expected["first"], rtol=1e-4, atol=1e-5, name=f"{what}: first outputs (eval mode)")
    assert_close(out.sum(), expected["sum"], rtol=1e-4, atol=1e-4, name=f"{what}: sum of the output (eval mode)")
    assert_close((out.astype(np.float64) ** 2).sum(), expected["sumsq"], rtol=1e-4, name=f"{what}: sum of squares")
    assert_close(out_train.sum(), expected["train_sum"], rtol=1e-4, atol=1e-4,
                 name=f"{what}: sum of the output in training mode (BatchNorm on batch statistics)")


def convs_and_norms(trace):
    return [t for t in trace if t["type"] in ("Conv2d", "BatchNorm2d", "BatchNorm1d", "Linear")]


@pytest.mark.task("A3.1")
def test_block_shapes_and_layers(student):
    m, check = student.module(MOD), student.module("checking")
    x = np.random.default_rng(0).normal(size=(2, 3, 16, 16)).astype(np.float32)
    block = m.Block(5, 5, 3, 8)
    out = check.forward(block, x)
    assert_shape(out, (2, 8, 16, 16), name="Block(5, 5, 3, 8) output")
    assert out.min() >= 0, "a Block ends with a ReLU: its outputs cannot be negative"
    assert_shape(check.forward(m.BlockDownSample(5, 5, 3, 8), x), (2, 8, 8, 8), name="BlockDownSample output")
    layers = convs_and_norms(check.layer_trace(block, x))
    assert [t["type"] for t in layers] == ["Conv2d", "BatchNorm2d", "Conv2d", "BatchNorm2d"], \
        f"expected Conv2d, BatchNorm2d, Conv2d, BatchNorm2d in this order, found {[t['type'] for t in layers]}"
    assert layers[0]["kernel"] == [5, 5] and layers[0]["padding"] == [2, 2] and layers[0]["stride"] == [1, 1], \
        f"first conv: expected a 5x5 kernel, padding 2, stride 1; found {layers[0]}"
    assert (layers[2]["cin"], layers[2]["cout"]) == (8, 8), f"second conv should map 8 -> 8 channels: {layers[2]}"
    assert check.num_parameters(block) == 3 * 8 * 25 + 8 + 16 + 8 * 8 * 25 + 8 + 16


@pytest.mark.task("A3.1")
def test_block_known_values(student):
    out, out_train = known_output(student, student.module(MOD).Block(3, 3, 2, 3), seed=0)
    check_known(out, out_train, EXPECTED["block"], "Block(3, 3, 2, 3)")


@pytest.mark.task("A3.2")
def test_small_cnn_parameters_and_output(student):
    m, check = student.module(MOD), student.module("checking")
    net = m.Cifar10SmallCNN(32, 32, 3)
    assert check.num_parameters(net) == 3_893_290, \
        f"Cifar10SmallCNN(32, 32, 3) should have 3,893,290 parameters, yours has {check.num_parameters(net):,}"
    out = check.forward(net, np.random.default_rng(1).normal(size=(3, 3, 32, 32)).astype(np.float32))
    assert_shape(out, (3, 10), name="logits")
    wide = m.Cifar10SmallCNN(64, 64, 3)   # the flattened size depends on H and W
    assert check.num_parameters(wide) == 3_893_290 + 256 * 256 * (64 - 16), \
        f"Cifar10SmallCNN(64, 64, 3): {check.num_parameters(wide):,} parameters; the first Linear layer " \
        "should take 256 * H/8 * W/8 inputs"


@pytest.mark.task("A3.2")
def test_small_cnn_layer_sequence(student):
    m, check = student.module(MOD), student.module("checking")
    net = m.Cifar10SmallCNN(32, 32, 3)
    layers = convs_and_norms(check.layer_trace(net, np.zeros((2, 3, 32, 32), np.float32)))
    convs = [t for t in layers if t["type"] == "Conv2d"]
    assert [c["kernel"][0] for c in convs] == [5] * 4 + [3] * 10, f"kernel sizes: {[c['kernel'] for c in convs]}"
    assert [c["stride"][0] for c in convs] == [1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1], \
        f"strides: {[c['stride'] for c in convs]}"
    assert [c["cout"] for c in convs][::2] == [32, 64, 64, 128, 128, 256, 256], f"widths: {[c['cout'] for c in convs]}"
    tail = [(t["type"], t.get("cin"), t.get("cout")) for t in layers[-3:]]
    assert tail == [("Linear", 4096, 256), ("BatchNorm1d", None, None), ("Linear", 256, 10)], f"the head: {tail}"


@pytest.mark.task("A3.3")
def test_mobilenet_block_layers_and_count(student):
    m, check = student.module(MOD), student.module("checking")
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 8)).astype(np.float32)
    block = m.BlockMobileNet(3, 3, 8, 16)
    assert_shape(check.forward(block, x), (2, 16, 8, 8), name="BlockMobileNet(3, 3, 8, 16) output")
    assert_shape(check.forward(m.BlockDownSampleMobileNet(3, 3, 8, 16), x), (2, 16, 4, 4),
                 name="BlockDownSampleMobileNet output")
    convs = [t for t in check.layer_trace(block, x) if t["type"] == "Conv2d"]
    found = [(c["kernel"], c["groups"], c["cin"], c["cout"]) for c in convs]
    assert found == [([3, 3], 8, 8, 8), ([1, 1], 1, 8, 16), ([3, 3], 16, 16, 16), ([1, 1], 1, 16, 16)], \
        f"expected depthwise 3x3 (groups = channels) then pointwise 1x1, twice; found (kernel, groups, in, out) {found}"
    net = m.Cifar10SmallCNN(32, 32, 3, use_mobile_net_conv=True)
    assert check.num_parameters(net) == 1_377_784, \
        f"the MobileNet variant should have 1,377,784 parameters, yours has {check.num_parameters(net):,}"


@pytest.mark.task("A3.3")
def test_mobilenet_block_known_values(student):
    out, out_train = known_output(student, student.module(MOD).BlockMobileNet(3, 3, 2, 4, stride=2), seed=1)
    check_known(out, out_train, EXPECTED["mobile"], "BlockMobileNet(3, 3, 2, 4, stride=2)")


@pytest.mark.task("A3.4")
def test_resblock_is_identity_plus_residual(student):
    r, check = student.module(RES), student.module("checking")
    block = r.ResBlock(3, 3, 4)
    x = np.random.default_rng(3).normal(size=(2, 4, 6, 6)).astype(np.float32)
    assert_shape(check.forward(block, x), (2, 4, 6, 6), name="ResBlock(3, 3, 4) output")
    check.zero_convolutions(block)
    assert_close(check.forward(block, x), x, atol=1e-6,
                 name="ResBlock output with all convolutions zero (F(x) = 0, so the output must be x)")
    assert_close(check.forward(block, x, train=True), x, atol=1e-6, name="the same in training mode")


@pytest.mark.task("A3.4")
def test_resblock_is_pre_activation(student):
    r, check = student.module(RES), student.module("checking")
    x = np.zeros((2, 4, 6, 6), np.float32)
    order = [t["type"] for t in check.layer_trace(r.ResBlock(3, 3, 4), x) if t["type"] in ("Conv2d", "BatchNorm2d")]
    assert order == ["BatchNorm2d", "Conv2d", "BatchNorm2d", "Conv2d"], \
        f"pre-activation means BN (and ReLU) before each conv: expected BN, Conv, BN, Conv; found {order}"
    down = check.layer_trace(r.ResBlockDownSample(3, 3, 4, 8), x)
    convs = [t for t in down if t["type"] == "Conv2d"]
    assert [(c["stride"], c["cin"], c["cout"]) for c in convs] == [([2, 2], 4, 8), ([1, 1], 8, 8)], \
        f"ResBlockDownSample(3, 3, 4, 8) convs (stride, in, out): {[(c['stride'], c['cin'], c['cout']) for c in convs]}"


@pytest.mark.task("A3.4")
def test_resblocks_known_values(student):
    r = student.module(RES)
    check_known(*known_output(student, r.ResBlock(3, 3, 2), seed=2), EXPECTED["res"], "ResBlock(3, 3, 2)")
    check_known(*known_output(student, r.ResBlockDownSample(3, 3, 2, 3), seed=3), EXPECTED["resdown"],
                "ResBlockDownSample(3, 3, 2, 3)")


@pytest.mark.task("A3.5")
def test_small_resnet_parameters_and_output(student):
    r, check = student.module(RES), student.module("checking")
    net = r.Cifar10SmallResNet(32, 32, 3)
    assert check.num_parameters(net) == 6_405_066, \
        f"Cifar10SmallResNet(32, 32, 3) should have 6,405,066 parameters, yours has {check.num_parameters(net):,}"
    x = np.random.default_rng(4).normal(size=(2, 3, 32, 32)).astype(np.float32)
    assert_shape(check.forward(net, x), (2, 10), name="logits")
    convs = [t for t in check.layer_trace(net, x) if t["type"] == "Conv2d"]
    assert convs[-1]["kernel"] == [4, 4] and convs[-1]["padding"] == [0, 0], \
        f"the last convolution should cover the whole 4x4 map without padding: {convs[-1]}"
    small = r.Cifar10SmallResNet(16, 16, 3)   # the last kernel follows the input size: 2x2 here
    assert_shape(check.forward(small, x[:, :, :16, :16]), (2, 10), name="logits of Cifar10SmallResNet(16, 16, 3)")
