"""Public tests for a8_protonet.py: prototypes, distances, the loss and accuracy on known
values, and the meta-training step on a tiny made-up episode. Run them with
`dlcc course test A8`. The grader runs more (hidden) tests, including a short meta-training
run on MNIST digits 0-4 tested on 5-9."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape


@pytest.mark.task("A8.6")
def test_prototypes_are_class_means(student):
    check = student.module("checking")
    emb = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 1.0], [1.0, 3.0]])
    labels = np.array([0, 0, 1, 1])
    protos = check.call("prototypes", emb, labels, 2)
    assert_shape(protos, (2, 2), name="prototypes")
    assert_close(protos, [[1.0, 0.0], [1.0, 2.0]], name="prototypes (class means)")


@pytest.mark.task("A8.6")
def test_squared_distances_known_values(student):
    check = student.module("checking")
    queries = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    protos = np.array([[0.0, 0.0], [1.0, 0.0]])
    dists = check.call("squared_distances", queries, protos)
    assert_close(dists, [[0.0, 1.0], [25.0, 20.0], [2.0, 1.0]], name="squared distances (Q, N)")


@pytest.mark.task("A8.7")
def test_loss_and_accuracy_known_values(student):
    check = student.module("checking")
    queries = np.array([[0.0, 0.0], [0.9, 0.0], [2.0, 0.0]])
    labels = np.array([0, 0, 1])
    protos = np.array([[0.0, 0.0], [1.0, 0.0]])
    got = check.loss_and_grads(queries, labels, protos)
    logits = -np.array([[0.0, 1.0], [0.81, 0.01], [4.0, 1.0]])
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert_close(got["loss"], -np.mean(log_p[[0, 1, 2], labels]), rtol=1e-6, name="loss")
    assert_close(got["accuracy"], 2 / 3, rtol=1e-6, name="accuracy (query 1 is nearer to prototype 1)")
    assert got["is_float"], "protonet_loss should return the accuracy as a Python float"
    assert_shape(got["grad_protos"], (2, 2), name="d loss / d prototypes")


@pytest.mark.task("A8.8")
def test_episode_step_trains(student):
    got = student.module("checking").run_steps(seed=0, steps=8)
    assert got["types"] == ["float", "float"], f"episode_step should return two floats, got {got['types']}"
    losses = [r[0] for r in got["results"]]
    assert losses[-1] < losses[0], f"8 steps on the same episode should lower its loss: {losses}"
    changed = [k for k in got["before"] if k.endswith("weight") and not np.allclose(got["before"][k], got["after"][k])]
    assert changed, "episode_step did not change the model's weights (optimizer.step()?)"
