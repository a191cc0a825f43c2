"""Hidden tests for segmentation and training set-up: U-Net pieces and network against the
solution, the losses on random batches, the patch dataset's randomness, a short U-Net training
on synthetic shapes with the student's loss, and make_training for every option."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape


def pair(student, solution, module, cls, *args, seed=0):
    check, ref = student.module("checking"), solution.module("checking")
    mine, theirs = getattr(student.module(module), cls)(*args), getattr(solution.module(module), cls)(*args)
    state = ref.random_state(theirs, seed)
    check.load_in_order(mine, state)
    ref.load_in_order(theirs, state)
    return check, ref, mine, theirs


@pytest.mark.task("A3.6")
def test_unet_pieces_match_solution(student, solution):
    rng = np.random.default_rng(30)
    for cls, args, shapes in (("DownSample", (3, 3, 5, 7), [(2, 5, 10, 6)]),
                              ("DownSample", (5, 5, 3, 4), [(2, 3, 9, 9)]),
                              ("Concatenate", (3, 3, 4, 2, 5), [(2, 4, 6, 8), (2, 2, 6, 8)]),
                              ("Concatenate", (1, 1, 3, 3, 2), [(2, 3, 5, 5), (2, 3, 5, 5)]),
                              # 5×5: kx // 2 and kx // 3 differ only for kernels of 5 and more
                              ("Concatenate", (5, 5, 3, 2, 4), [(2, 3, 7, 9), (2, 2, 7, 9)])):
        check, ref, mine, theirs = pair(student, solution, "unet_model", cls, *args, seed=int(rng.integers(1000)))
        xs = [rng.normal(size=s).astype(np.float32) for s in shapes]
        for train in (False, True):
            assert_close(check.forward(mine, *xs, train=train), ref.forward(theirs, *xs, train=train), rtol=1e-4,
                         atol=1e-5, name=f"{cls}{args} output ({'train' if train else 'eval'} mode)")
    up_check = student.module("checking")
    x = rng.normal(size=(2, 3, 5, 7)).astype(np.float32)
    assert_close(up_check.forward(student.module("unet_model").UpSample(), x),
                 solution.module("checking").forward(solution.module("unet_model").UpSample(), x), rtol=1e-5,
                 atol=1e-6, name="UpSample of a 5x7 input")


@pytest.mark.task("A3.7")
def test_unet_matches_solution(student, solution):
    check, ref, mine, theirs = pair(student, solution, "unet_model", "UNet", 32, 48, 2, seed=31)
    rng = np.random.default_rng(32)
    x = rng.normal(size=(2, 2, 32, 48)).astype(np.float32)
    for train in (False, True):
        assert_close(check.forward(mine, x, train=train), ref.forward(theirs, x, train=train), rtol=1e-3, atol=1e-4,
                     name=f"UNet logits ({'train' if train else 'eval'} mode)")


@pytest.mark.task("A3.8")
def test_losses_match_solution_on_random_batches(student, solution):
    mine, ref = student.module("losses"), solution.module("losses")
    check, refc = student.module("checking"), solution.module("checking")
    rng = np.random.default_rng(33)
    for shape in ((4, 1, 16, 16), (1, 1, 7, 9), (3, 1, 5, 5)):
        logits = rng.normal(scale=3.0, size=shape).astype(np.float32)
        target = (rng.random(shape) < 0.3).astype(np.float32)
        probs = 1 / (1 + np.exp(-logits))
        for smooth in (1.0, 0.5):
            assert_close(check.call_plain("losses", "soft_dice", probs, target, smooth=smooth),
                         refc.call_plain("losses", "soft_dice", probs, target, smooth=smooth), rtol=1e-5,
                         name=f"soft_dice for {shape}, smooth={smooth}")
        for weights in ((1.0, 1.0), (0.3, 2.0)):
            assert_close(check.loss_value(mine.BCEDiceLoss(*weights), logits, target),
                         refc.loss_value(ref.BCEDiceLoss(*weights), logits, target), rtol=1e-5,
                         name=f"BCEDiceLoss{weights} for {shape}")
            assert_close(check.loss_grad(mine.BCEDiceLoss(*weights), logits, target),
                         refc.loss_grad(ref.BCEDiceLoss(*weights), logits, target), rtol=1e-4, atol=1e-7,
                         name=f"gradient of BCEDiceLoss{weights} for {shape}")
    huge = np.full((2, 1, 4, 4), 200.0, np.float32)
    ones = np.ones((2, 1, 4, 4), np.float32)
    assert np.isfinite(check.loss_value(mine.BCEDiceLoss(), -huge, ones)), \
        "BCEDiceLoss must stay finite for saturated logits (compute the BCE from logits)"


@pytest.mark.task("A3.9")
def test_patches_cover_positions_and_flip_evenly(student):
    seg, check = student.module("segdataset"), student.module("checking")
    size, patch = 12, 8
    images = np.arange(size * size, dtype=np.float32).reshape(1, size, size) / (size * size)
    ds = seg.SegmentationPatches(images, (images > 0.5).astype(np.float32), patch=patch, length=400)
    corners, flips = set(), 0
    for image, mask in check.dataset_items(ds, list(range(400)), seed=4):
        values = np.round(image[0] * size * size).astype(int)
        rows, cols = values // size, values % size
        top, left = rows.min(), cols.min()
        corners.add((int(top), int(left)))
        flips += int(cols[0, 0] > cols[0, -1])       # mirrored left-right
        assert_close(mask, (image > 0.5).astype(np.float32), name="mask of a patch")
    assert len(corners) == (size - patch + 1) ** 2, \
        f"random crops should reach every one of the {(size - patch + 1) ** 2} positions; saw {len(corners)}"
    assert 150 < flips < 250, f"{flips} of 400 patches were mirrored left-right; expected about half"


@pytest.mark.task("A3.9")
def test_patches_are_reproducible_with_torch_seed(student):
    seg, check = student.module("segdataset"), student.module("checking")
    images = np.random.default_rng(5).random((2, 16, 16)).astype(np.float32)
    ds = seg.SegmentationPatches(images, (images > 0.5).astype(np.float32), patch=8, length=6)
    a, b = check.dataset_items(ds, list(range(6)), seed=9), check.dataset_items(ds, list(range(6)), seed=9)
    for (x, _), (y, _) in zip(a, b):
        assert_close(x, y, name="the same item after the same torch.manual_seed")


def shapes_data():
    from dlcc.data import make_shapes

    images, masks = make_shapes(72, size=32, seed=3)
    return images, masks[:, None].astype(np.float32)


@pytest.mark.task("A3.7", timeout=300)
def test_unet_learns_shapes(student):
    """The student's U-Net, trained briefly on synthetic shapes (with a given BCE loss), must
    segment new ones."""
    images, masks = shapes_data()
    check = student.module("checking")
    student.module("util").set_seed(0)
    net = student.module("unet_model").UNet(32, 32, 1)
    losses = check.train_segmenter(net, check.bce_loss(), images[:56], masks[:56], steps=60, batch_size=8,
                                   lr=3e-3)["losses"]
    assert np.all(np.isfinite(losses)), "the training loss became NaN or inf"
    dice = check.segmenter_dice(net, images[56:], masks[56:])
    assert dice > 0.8, f"Dice on new shapes {dice:.3f} after 60 steps (everything-foreground scores about 0.16)"


@pytest.mark.task("A3.8", timeout=300)
def test_bce_dice_trains_a_segmenter(student):
    """A given small conv net trained with the student's BCEDiceLoss must segment new shapes."""
    images, masks = shapes_data()
    check = student.module("checking")
    net = check.tiny_segmenter()
    losses = check.train_segmenter(net, student.module("losses").BCEDiceLoss(), images[:56], masks[:56],
                                   steps=200, batch_size=8, lr=1e-2)["losses"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], f"loss {losses[0]:.3f} -> {losses[-1]:.3f}"
    dice = check.segmenter_dice(net, images[56:], masks[56:])
    assert dice > 0.8, f"Dice on new shapes {dice:.3f} (everything-foreground scores about 0.16)"


@pytest.mark.task("A3.10")
@pytest.mark.parametrize("name, optimizer", [("cnn", "sgd"), ("mobilenet", "adam"), ("resnet", "adam")])
def test_make_training_every_option(student, name, optimizer):
    info = student.module("checking").training_info(name, {"learning_rate": 0.01, "reg": 0.001,
                                                           "optimizer": optimizer})
    opt = info["optimizer"]
    assert opt["type"] == ("SGD" if optimizer == "sgd" else "Adam"), f"optimizer for {optimizer!r}: {opt['type']}"
    assert_close([opt["lr"], opt["weight_decay"]], [0.01, 0.001], rtol=1e-6, name="lr, weight_decay")
    assert opt["n_params"] == info["n_params"], "the optimizer should update every parameter of the model"
    assert info["scheduler"] == {"type": "StepLR", "step_size": 5.0, "gamma": 0.5}
    assert info["loss"] == "CrossEntropyLoss"
