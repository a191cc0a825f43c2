"""Public tests for a3_cnn.make_training (A3.10): the model, loss, optimizer and schedule."""

import pytest

from dlcc.course.checks import assert_close


@pytest.mark.task("A3.10")
@pytest.mark.parametrize("name, count", [("cnn", 3_893_290), ("mobilenet", 1_377_784)])
def test_adam_and_step_schedule(student, name, count):
    info = student.module("checking").training_info(name, {"learning_rate": 0.002, "reg": 0.0025,
                                                           "optimizer": "adam"})
    assert info["n_params"] == count, f"{name}: {info['n_params']:,} parameters"
    assert info["loss"] == "CrossEntropyLoss", f"loss: {info['loss']}"
    opt = info["optimizer"]
    assert opt["type"] == "Adam", f"optimizer: {opt['type']}"
    assert opt["n_params"] == count, "the optimizer should update every parameter of the model"
    # atol=0: the default atol (1e-8) would accept eps=0, and Adam without eps divides 0 by 0
    # for any weight whose gradient is still zero.
    assert_close([opt["lr"], opt["weight_decay"], opt["eps"]], [0.002, 0.0025, 1e-8], rtol=1e-6, atol=0,
                 name="Adam lr, weight_decay, eps")
    assert_close(opt["betas"], [0.9, 0.999], name="Adam betas")
    assert info["scheduler"] == {"type": "StepLR", "step_size": 5.0, "gamma": 0.5}


@pytest.mark.task("A3.10")
def test_sgd_and_resnet(student):
    info = student.module("checking").training_info("resnet", {"learning_rate": 0.05, "reg": 0.005,
                                                               "optimizer": "sgd"})
    assert info["n_params"] == 6_405_066
    opt = info["optimizer"]
    assert opt["type"] == "SGD" and opt.get("momentum") == pytest.approx(0.9), f"optimizer: {opt}"
    assert_close([opt["lr"], opt["weight_decay"]], [0.05, 0.005], rtol=1e-6, name="SGD lr, weight_decay")
