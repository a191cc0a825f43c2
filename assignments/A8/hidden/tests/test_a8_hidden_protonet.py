"""Hidden tests for a8_protonet.py: prototypes of unsorted support sets, distances and the loss
(with gradients) against the solution on random embeddings, exact agreement of three training
steps, and a short meta-training run on MNIST digits 0-4 tested on the unseen digits 5-9."""

import numpy as np
import pytest
import torch

from dlcc.course.checks import assert_close


@pytest.mark.task("A8.6")
def test_prototypes_of_an_unsorted_support_set(student):
    rng = np.random.default_rng(70)
    emb = rng.normal(size=(12, 7))
    labels = rng.permutation(np.repeat(np.arange(4), 3))
    protos = student.module("checking").call("prototypes", emb, labels, 4)
    expected = np.stack([emb[labels == c].mean(axis=0) for c in range(4)])
    assert_close(protos, expected, rtol=1e-6, atol=1e-9, name="prototypes (support not sorted by class)")


@pytest.mark.task("A8.6")
def test_squared_distances_random(student):
    rng = np.random.default_rng(71)
    queries, protos = rng.normal(size=(9, 5)), rng.normal(size=(4, 5))
    dists = student.module("checking").call("squared_distances", queries, protos)
    expected = (torch.cdist(torch.tensor(queries), torch.tensor(protos)) ** 2).numpy()
    assert_close(dists, expected, rtol=1e-6, atol=1e-9, name="squared distances (9 queries, 4 prototypes)")


@pytest.mark.task("A8.7", weight=2)
def test_loss_accuracy_and_gradients_match_solution(student, solution):
    rng = np.random.default_rng(72)
    queries, protos = rng.normal(size=(15, 6)), rng.normal(size=(5, 6))
    labels = np.repeat(np.arange(5), 3)
    got = student.module("checking").loss_and_grads(queries, labels, protos)
    exp = solution.module("checking").loss_and_grads(queries, labels, protos)
    assert_close(got["loss"], exp["loss"], rtol=1e-6, name="loss")
    assert_close(got["accuracy"], exp["accuracy"], name="accuracy")
    assert got["is_float"], "protonet_loss should return the accuracy as a Python float"
    assert_close(got["grad_queries"], exp["grad_queries"], rtol=1e-5, atol=1e-9, name="d loss / d queries")
    assert_close(got["grad_protos"], exp["grad_protos"], rtol=1e-5, atol=1e-9, name="d loss / d prototypes")


@pytest.mark.task("A8.8")
def test_three_steps_match_solution_exactly(student, solution):
    got = student.module("checking").run_steps(seed=3, steps=3, shuffle_support=True)
    exp = solution.module("checking").run_steps(seed=3, steps=3, shuffle_support=True)
    assert_close(got["results"], exp["results"], rtol=1e-4, atol=1e-6, name="(loss, accuracy) of three steps")
    for name in exp["after"]:
        assert_close(got["after"][name], exp["after"][name], rtol=1e-4, atol=1e-6, name=f"{name} after three steps")
    assert got["training"], "episode_step should leave the model in training mode"


@pytest.mark.task("A8.8", weight=2, timeout=300)
def test_meta_training_on_mnist_generalises_to_unseen_digits(student):
    got = student.module("checking").train_on_mnist(episodes=150, test_episodes=200)
    # the solution: 5-way 5-shot on digits 5-9 rises from about 0.71 (untrained) to about 0.83
    assert got["train_loss_last"] < got["train_loss_first"], f"the training loss did not fall: {got}"
    assert got["after"] >= 0.78 and got["after"] >= got["before"] + 0.05, (
        f"after 150 episodes on digits 0-4 the 5-way 5-shot accuracy on digits 5-9 is {got['after']:.3f} "
        f"(untrained: {got['before']:.3f}); it should reach 0.78 and beat the untrained network by 0.05")
