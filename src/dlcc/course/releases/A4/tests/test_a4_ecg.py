"""Public tests for ECG trigger detection: ECGDetector.forward and the loss (transformer.py),
ECGDataset (ecgdataset.py), the training step and peak picking (a4_ecg_trigger_detection.py).
The training-step tests use a tiny model and loss from checking.py, so A4.7 does not depend
on A4.4 or A4.5."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape

ECG = "a4_ecg_trigger_detection"


def tiny_detector(student):
    """A 1-layer ECGDetector with known (random, seeded) weights."""
    check = student.module("checking")
    model = student.module("transformer").ECGDetector(C=2, T=16, n_layer=1, n_head=2, n_embd=8, dropout=0.0)
    rng = np.random.default_rng(0)
    state = {k: rng.normal(scale=0.5, size=np.shape(v)).astype(np.float32)
             for k, v in sorted(check.state_dict(model).items())}
    check.load_state_dict(model, state)
    return model, rng


@pytest.mark.task("A4.4")
def test_detector_known_values(student):
    model, rng = tiny_detector(student)
    x = rng.normal(size=(2, 12, 2)).astype(np.float32)   # 12 samples: shorter than T = 16
    logits = student.module("checking").forward(model, x)
    assert_shape(logits, (2, 12, 1), name="logits")
    assert_close(logits[0, :, 0], [0.40163076, 0.2022849, 0.49373764, 0.2615572, 0.37656012, 0.571138,
                                   0.24510887, 0.5648885, 0.43372455, 0.3800275, 0.4922849, 0.26772583],
                 rtol=1e-4, atol=1e-5, name="logits of sequence 0")
    assert_close(logits[1, :3, 0], [0.3744346, 0.28244835, 0.5005394], rtol=1e-4, atol=1e-5,
                 name="first logits of sequence 1")


@pytest.mark.task("A4.5")
def test_loss_is_mean_bce_of_sigmoid(student):
    loss_func = student.module("transformer").LossTriggerDetection()
    check = student.module("checking")
    scores = np.array([[[0.0], [2.0], [-1.0]], [[3.0], [-2.0], [0.5]]], dtype=np.float32)   # [2, 3, 1]
    y = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2]], dtype=np.float32)
    p = 1 / (1 + np.exp(-scores[..., 0].astype(np.float64)))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert_close(check.loss_value(loss_func, scores, y), expected, rtol=1e-5, name="loss")
    assert_close(check.loss_value(loss_func, scores[:1], y[:1]),
                 -np.mean(y[0] * np.log(p[0]) + (1 - y[0]) * np.log(1 - p[0])), rtol=1e-5,
                 name="loss of a batch of one sequence ([1, T, 1] scores, [1, T] targets)")


def small_records():
    rng = np.random.default_rng(2)
    records = []
    for T in (50, 37, 10):   # the 10-sample record is shorter than a chunk: skipped
        trigger = np.zeros(T, np.float32)
        trigger[rng.choice(T, size=3, replace=False)] = 1.0
        records.append({"signal": rng.normal(size=(T, 2)).astype(np.float32), "trigger": trigger})
    return records


@pytest.mark.task("A4.6")
def test_dataset_items_are_the_listed_chunks(student):
    check = student.module("checking")
    records = small_records()
    ds = student.module("ecgdataset").ECGDataset(records, chunk_length=16, num_starts=2,
                                                 transform=check.scale_transform())
    chunks = [tuple(c) for c in check.dataset_attribute(ds, "chunks")]
    assert check.dataset_length(ds) == len(chunks), \
        f"len(dataset) is {check.dataset_length(ds)}; there are {len(chunks)} chunks"
    for i in (0, len(chunks) - 1):
        wave, trigger, where = check.dataset_item(ds, i)
        index, start = chunks[i]
        assert tuple(int(v) for v in where) == (index, start), f"item {i}: where {where}, expected {(index, start)}"
        assert_shape(wave, (16, 2), name=f"item {i} wave")
        assert_close(wave, records[index]["signal"][start:start + 16], name=f"item {i} wave")
        assert_close(trigger, 3 * records[index]["trigger"][start:start + 16],
                     name=f"item {i} trigger (after the transform, which multiplies by 3)")


@pytest.mark.task("A4.6")
def test_dataset_batches(student):
    check = student.module("checking")
    ds = student.module("ecgdataset").ECGDataset(small_records(), chunk_length=16, num_starts=1)
    x, y, where = check.batch_from_loader(ds, 4, [0, 1, 2, 3])
    assert_shape(x, (4, 16, 2), name="a batch of waves")
    assert_shape(y, (4, 16), name="a batch of triggers")
    assert np.asarray(x).dtype == np.float32 and np.asarray(y).dtype == np.float32, \
        f"waves and triggers should be float32, got {np.asarray(x).dtype} and {np.asarray(y).dtype}"


def tagger_problem(seed=3, n=8, L=20):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, L, 2)).astype(np.float32), (rng.random((n, L)) < 0.2).astype(np.float32)


@pytest.mark.task("A4.7")
def test_step_clips_the_gradient_norm(student):
    """SGD with lr 1: a clipped step moves the parameters by exactly `clip` (in total norm)."""
    check = student.module("checking")
    x, y = tagger_problem()
    model = check.tiny_tagger(2, 8, 0)
    before = check.get_parameters(model)
    losses = student.module(ECG).train_one_epoch(model, check.triple_loader(x, y, 8), check.reference_loss(),
                                                 check.sgd(model, 1.0), 0.01)
    assert isinstance(losses, list) and len(losses) == 1, f"one batch, one loss expected; got {losses!r}"
    after = check.get_parameters(model)
    moved = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(after, before)))
    assert_close(moved, 0.01, rtol=1e-3, name="norm of the parameter change (clip = 0.01, lr = 1)")


@pytest.mark.task("A4.7")
def test_training_reduces_the_loss(student):
    check = student.module("checking")
    x, y = tagger_problem(seed=4, n=32)
    model = check.tiny_tagger(2, 8, 1)
    optimizer, loss = check.adamw(model, 0.05), check.reference_loss()
    first = student.module(ECG).train_one_epoch(model, check.triple_loader(x, y, 8), loss, optimizer, 1.0)
    for _ in range(10):
        last = student.module(ECG).train_one_epoch(model, check.triple_loader(x, y, 8), loss, optimizer, 1.0)
    assert len(first) == 4, f"32 chunks in batches of 8: 4 losses expected, got {len(first)}"
    assert np.mean(last) < np.mean(first) - 0.05, \
        f"the mean loss went from {np.mean(first):.4f} to {np.mean(last):.4f} in 10 epochs; it should fall"


@pytest.mark.task("A4.8")
def test_find_triggers_small_trace(student):
    p = np.zeros(60)
    p[5], p[6], p[7] = 0.9, 0.8, 0.95    # 7 is the maximum of its neighbourhood; 5 is not
    p[20], p[28] = 0.8, 0.85             # 8 apart: with d_thresh 10 only the higher one stays
    p[40] = 0.7                          # below p_thresh
    p[50], p[53] = 0.9, 0.9              # a tie: the earlier one wins
    find = student.module(ECG).find_triggers
    got = find(p, 0.75, 10)
    assert_close(got, [7, 28, 50], name="triggers with p_thresh 0.75, d_thresh 10")
    assert np.asarray(got).dtype == np.int64, f"triggers should be int64, got {np.asarray(got).dtype}"
    assert_close(find(p, 0.75, 3), [7, 20, 28, 50, 53], name="triggers with d_thresh 3")
    assert len(find(np.zeros(10), 0.75, 10)) == 0, "a flat trace has no triggers"
