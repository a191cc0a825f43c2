"""Public tests for segmentation: the U-Net pieces (A3.6) and network (A3.7) in unet_model.py,
soft Dice and BCE + Dice (A3.8) in losses.py, and the patch dataset (A3.9) in segdataset.py."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape

UNET = "unet_model"
EXPECTED = {
    "down": {"shape": (2, 3, 2, 2), "sum": 4.357226, "sumsq": 40.851474, "train_sum": 3.210975,
             "first": [1.443825, 2.332557, -1.609999, 1.476247, -0.145141, -0.62508]},
    "cat": {"shape": (2, 3, 4, 4), "sum": -101.278430, "sumsq": 217.127845, "train_sum": -103.814682,
            "first": [-1.388876, -2.020076, -2.817389, -3.181843, -1.171468, -2.07705]},
}


def known_output(student, layer, seed, shapes):
    check = student.module("checking")
    check.load_in_order(layer, check.random_state(layer, seed))
    rng = np.random.default_rng(seed + 100)
    xs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    return check.forward(layer, *xs), check.forward(layer, *xs, train=True)


def check_known(out, out_train, expected, what):
    assert_shape(out, expected["shape"], name=f"{what} output")
    assert_close(out.reshape(-1)[:6], expected["first"], rtol=1e-4, atol=1e-5, name=f"{what}: first outputs (eval mode)")
    assert_close(out.sum(), expected["sum"], rtol=1e-4, atol=1e-4, name=f"{what}: sum of the output (eval mode)")
    assert_close((out.astype(np.float64) ** 2).sum(), expected["sumsq"], rtol=1e-4, name=f"{what}: sum of squares")
    assert_close(out_train.sum(), expected["train_sum"], rtol=1e-4, atol=1e-4,
                 name=f"{what}: sum of the output in training mode")


@pytest.mark.task("A3.6")
def test_unet_pieces_shapes_and_known_values(student):
    u, check = student.module(UNET), student.module("checking")
    x = np.random.default_rng(5).normal(size=(2, 4, 8, 12)).astype(np.float32)
    assert_shape(check.forward(u.DownSample(3, 3, 4, 6), x), (2, 6, 4, 6), name="DownSample(3, 3, 4, 6) output")
    order = [t["type"] for t in check.layer_trace(u.DownSample(3, 3, 4, 6), x) if t["type"] != "ReLU"]
    assert order == ["BatchNorm2d", "Conv2d"], f"DownSample is BN -> ReLU -> Conv (stride 2); found {order}"
    skip = np.random.default_rng(6).normal(size=(2, 3, 8, 12)).astype(np.float32)
    assert_shape(check.forward(u.Concatenate(3, 3, 4, 3, 5), x, skip), (2, 5, 8, 12),
                 name="Concatenate(3, 3, 4, 3, 5) output")
    check_known(*known_output(student, u.DownSample(3, 3, 2, 3), 4, [(2, 2, 4, 4)]), EXPECTED["down"],
                "DownSample(3, 3, 2, 3)")
    check_known(*known_output(student, u.Concatenate(3, 3, 2, 1, 3), 5, [(2, 2, 4, 4), (2, 1, 4, 4)]),
                EXPECTED["cat"], "Concatenate(3, 3, 2, 1, 3)")


@pytest.mark.task("A3.6")
def test_upsample_is_bilinear_with_aligned_corners(student):
    u, check = student.module(UNET), student.module("checking")
    x = np.array([[[[0.0, 1.0], [2.0, 3.0]]]], np.float32)
    out = check.forward(u.UpSample(), x)
    assert_shape(out, (1, 1, 4, 4), name="UpSample output")
    assert_close(out[0, 0, 0], [0.0, 1 / 3, 2 / 3, 1.0], atol=1e-6,
                 name="first row (align_corners=True keeps the corner values)")
    assert_close(out[0, 0, :, 0], [0.0, 2 / 3, 4 / 3, 2.0], atol=1e-6, name="first column")
    assert check.num_parameters(u.UpSample()) == 0, "UpSample has no parameters"


@pytest.mark.task("A3.7")
def test_unet_parameters_and_shapes(student):
    u, check = student.module(UNET), student.module("checking")
    net = u.UNet(112, 168, 3)
    assert check.num_parameters(net) == 1_712_833, \
        f"UNet(112, 168, 3) should have 1,712,833 parameters, yours has {check.num_parameters(net):,}"
    x = np.random.default_rng(7).normal(size=(1, 3, 112, 168)).astype(np.float32)
    assert_shape(check.forward(net, x), (1, 1, 112, 168), name="UNet logits")
    grey = u.UNet(64, 64, 1)
    assert check.num_parameters(grey) == 1_712_833 - 2 * 32 * 25, "UNet(C=1): only the input conv changes"
    assert_shape(check.forward(grey, x[:, :1, :48, :80]), (1, 1, 48, 80),
                 name="UNet logits for a 48x80 input (fully convolutional: any size divisible by 8)")


@pytest.mark.task("A3.7")
def test_unet_uses_the_skip_connections(student):
    u, check = student.module(UNET), student.module("checking")
    net = u.UNet(32, 32, 1)
    x = np.random.default_rng(8).normal(size=(2, 1, 32, 32)).astype(np.float32)
    grads = check.forward_backward(net, x, np.ones((2, 1, 32, 32), np.float32))
    unused = [i for i, g in enumerate(grads["params"]) if g is None]
    assert not unused, f"parameters number {unused} get no gradient: is every layer used in forward?"
    layers = [t for t in check.layer_trace(net, x) if t["type"] == "BatchNorm2d"]
    assert [t["features"] for t in layers if t["features"] in (256, 192, 96)] == [256, 192, 96], \
        "the three Concatenate blocks should see 128+128, 128+64 and 64+32 channels, in this order"


@pytest.mark.task("A3.8")
def test_soft_dice_known_values(student):
    check = student.module("checking")
    p = np.array([[[[0.9, 0.2], [0.6, 0.0]]], [[[0.1, 0.3], [0.5, 0.8]]]], np.float32)
    t = np.array([[[[1, 0], [1, 0]]], [[[0, 0], [1, 1]]]], np.float32)
    # sample 0: 2*1.5 / (1.7 + 2) with smooth 0; (3 + 1) / (3.7 + 1) with smooth 1
    assert_close(check.call_plain("losses", "soft_dice", p, t, smooth=0.0), [3 / 3.7, 2.6 / 3.7], rtol=1e-5,
                 name="soft_dice(p, t, smooth=0)")
    assert_close(check.call_plain("losses", "soft_dice", p, t), [4 / 4.7, 3.6 / 4.7], rtol=1e-5, name="soft_dice(p, t)")
    assert_close(check.call_plain("losses", "soft_dice", t, t), [1.0, 1.0], rtol=1e-6, name="soft_dice(t, t)")


@pytest.mark.task("A3.8")
def test_bce_dice_loss_value_and_gradient(student):
    losses, check = student.module("losses"), student.module("checking")
    logits = np.array([[[[2.0, -1.0], [0.5, -3.0]]], [[[-2.0, -0.5], [0.0, 1.5]]]], np.float32)
    t = np.array([[[[1, 0], [1, 0]]], [[[0, 0], [1, 1]]]], np.float32)
    assert_close(check.loss_value(losses.BCEDiceLoss(), logits, t), 0.514121413, rtol=1e-5,
                 name="BCEDiceLoss()(logits, t)")
    assert_close(check.loss_value(losses.BCEDiceLoss(0.5, 2.0), logits, t), 0.567289174, rtol=1e-5,
                 name="BCEDiceLoss(bce_weight=0.5, dice_weight=2.0)")
    grad = check.loss_grad(losses.BCEDiceLoss(), logits, t)
    assert np.all(np.isfinite(grad)) and np.all(grad[t == 1] < 0) and np.all(grad[t == 0] > 0), \
        f"the loss should fall as foreground logits rise and background logits fall; gradient {grad.ravel()}"
    confident = np.where(t > 0, 30.0, -30.0).astype(np.float32)
    assert check.loss_value(losses.BCEDiceLoss(), confident, t) < 1e-6, "a confident, correct prediction costs ~0"


def seg_data(n=3, size=20, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.random((n, size, size)).astype(np.float32)
    return images, (images > 0.5).astype(np.float32)   # the mask is a function of the pixel value


@pytest.mark.task("A3.9")
def test_patches_shapes_and_alignment(student):
    seg, check = student.module("segdataset"), student.module("checking")
    images, masks = seg_data()
    ds = seg.SegmentationPatches(images, masks, patch=8, length=12)
    assert check.dataset_length(ds) == 12
    for i, (image, mask) in enumerate(check.dataset_items(ds, list(range(12)), seed=1)):
        assert_shape(image, (1, 8, 8), name=f"item {i} image")
        assert_shape(mask, (1, 8, 8), name=f"item {i} mask")
        assert_close(mask, (image > 0.5).astype(np.float32),
                     name=f"item {i}: mask (it must get the same crop and flips as its image)")


@pytest.mark.task("A3.9")
def test_patches_are_windows_of_their_image(student):
    seg, check = student.module("segdataset"), student.module("checking")
    images, masks = seg_data()
    ds = seg.SegmentationPatches(images, masks, patch=6, length=9, flips=False)
    for i, (image, _) in enumerate(check.dataset_items(ds, list(range(9)), seed=2)):
        src = images[i % 3]
        hits = [(y, x) for y in range(15) for x in range(15) if np.array_equal(src[y:y + 6, x:x + 6], image[0])]
        assert hits, f"item {i} (flips=False) is not a 6x6 window of image {i % 3}"


@pytest.mark.task("A3.9")
def test_patches_flip_both_ways(student):
    seg, check = student.module("segdataset"), student.module("checking")
    images, masks = seg_data(n=1, size=8)
    ds = seg.SegmentationPatches(images, masks, patch=8, length=40)   # whole image: only the flips vary
    seen = {tuple(np.round(img[0, 0, :2], 6)) + tuple(np.round(img[0, -1, :2], 6))
            for img, _ in check.dataset_items(ds, list(range(40)), seed=3)}
    assert len(seen) == 4, f"expected all 4 combinations of left-right and up-down flips in 40 items, saw {len(seen)}"
