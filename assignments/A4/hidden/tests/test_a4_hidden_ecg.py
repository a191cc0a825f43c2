"""Hidden tests for ECG trigger detection: agreement with the solution on random weights and
traces, a real MIT-BIH slice in the dataset, and the whole pipeline trained on synthetic ECG
that must find the R peaks of a real MIT-BIH record."""

from argparse import Namespace

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape

ECG = "a4_ecg_trigger_detection"


def detector_pair(student, solution, causal, seed):
    kwargs = {"C": 3, "T": 32, "n_layer": 2, "n_head": 4, "n_embd": 16, "dropout": 0.0, "is_causal": causal}
    check, ref = student.module("checking"), solution.module("checking")
    model = student.module("transformer").ECGDetector(**kwargs)
    ref_model = solution.module("transformer").ECGDetector(**kwargs)
    rng = np.random.default_rng(seed)
    state = {k: rng.normal(scale=0.3, size=np.shape(v)).astype(np.float32)
             for k, v in sorted(check.state_dict(model).items())}
    check.load_state_dict(model, state)
    ref.load_state_dict(ref_model, state)
    return check, ref, model, ref_model, rng


@pytest.mark.task("A4.4")
@pytest.mark.parametrize("causal", [False, True])
def test_detector_matches_solution(student, solution, causal):
    check, ref, model, ref_model, rng = detector_pair(student, solution, causal, seed=10 + causal)
    for t in (32, 20, 1):
        x = rng.normal(size=(3, t, 3)).astype(np.float32)
        logits = check.forward(model, x)
        assert_shape(logits, (3, t, 1), name=f"logits for {t} samples")
        assert_close(logits, ref.forward(ref_model, x), rtol=1e-4, atol=1e-5,
                     name=f"logits for {t} samples (is_causal={causal})")


@pytest.mark.task("A4.4")
def test_detector_refuses_inputs_longer_than_T(student):
    model = student.module("transformer").ECGDetector(C=2, T=8, n_layer=1, n_head=2, n_embd=8,
                                                       dropout=0.0, is_causal=False)
    x = np.zeros((1, 9, 2), dtype=np.float32)
    with pytest.raises(Exception) as info:
        student.module("checking").forward(model, x)
    assert "ValueError" in str(info.value) and "T = 8" in str(info.value), \
        f"9 samples into a model with T = 8 should raise a ValueError naming T = 8; got: {info.value}"


@pytest.mark.task("A4.4")
def test_detector_gradients_match_solution(student, solution):
    check, ref, model, ref_model, rng = detector_pair(student, solution, False, seed=12)
    x = rng.normal(size=(2, 24, 3)).astype(np.float32)
    weights = rng.normal(size=(2, 24, 1)).astype(np.float32)
    got, exp = check.forward_backward(model, x, weights), ref.forward_backward(ref_model, x, weights)
    assert_close(got["x"], exp["x"], rtol=1e-3, atol=1e-5, name="gradient with respect to the input")
    missing = sorted(set(exp["params"]) - set(got["params"]))
    assert not missing, f"these parameters get no gradient (not used in forward?): {missing}"
    for name in ("input_proj.weight", "pos_emb", "head.weight", "ln_f.weight"):
        assert_close(got["params"][name], exp["params"][name], rtol=1e-3, atol=1e-5, name=f"gradient of {name}")


@pytest.mark.task("A4.5")
def test_loss_random_batches(student):
    loss_func = student.module("transformer").LossTriggerDetection()
    check = student.module("checking")
    rng = np.random.default_rng(20)
    for shape in ((4, 50, 1), (4, 50), (1, 33, 1)):
        scores = rng.normal(scale=3.0, size=shape).astype(np.float32)
        y = rng.random(size=shape[:2]).astype(np.float32)
        p = 1 / (1 + np.exp(-scores.reshape(shape[:2]).astype(np.float64)))
        expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        assert_close(check.loss_value(loss_func, scores, y), expected, rtol=1e-4, name=f"loss for scores {shape}")
        grad = check.loss_grad(loss_func, scores, y)
        assert_close(np.reshape(grad, shape[:2]), (p - y) / y.size, rtol=1e-3, atol=1e-7,
                     name=f"gradient of the loss for scores {shape}")


@pytest.mark.task("A4.6")
def test_dataset_on_real_mitbih(student, solution):
    util = student.module("util")
    records = util.load_records("mitbih", ["101"], seconds=20) + util.load_records("synthetic", seconds=5,
                                                                                     n_synthetic=1, seed=3)
    check = student.module("checking")
    ds = student.module("ecgdataset").ECGDataset(records, chunk_length=256, num_starts=3,
                                                 transform=util.SmoothingTrigger(2.0))
    chunks = [tuple(c) for c in check.dataset_attribute(ds, "chunks")]
    assert check.dataset_length(ds) == len(chunks), f"len(dataset) {check.dataset_length(ds)} != {len(chunks)} chunks"
    smooth = solution.module("util").SmoothingTrigger(2.0)
    for i in (0, 7, len(chunks) // 2, len(chunks) - 1):
        wave, trigger, where = check.dataset_item(ds, i)
        index, start = chunks[i]
        assert tuple(int(v) for v in where) == (index, start), f"item {i}: where {where}, expected {(index, start)}"
        assert_close(wave, records[index]["signal"][start:start + 256], name=f"item {i} wave")
        assert_close(trigger, smooth(records[index]["trigger"][start:start + 256]), rtol=1e-5, atol=1e-6,
                     name=f"item {i} soft trigger")
    x, y, _ = check.batch_from_loader(ds, 5, [1, 2, 3, 4, 5])
    assert_shape(x, (5, 256, 2), name="a batch of waves")
    assert_shape(y, (5, 256), name="a batch of triggers")


@pytest.mark.task("A4.7")
def test_three_steps_match_solution(student, solution):
    rng = np.random.default_rng(30)
    x = rng.normal(size=(12, 16, 2)).astype(np.float32)
    y = (rng.random((12, 16)) < 0.3).astype(np.float32)
    results = []
    for side in (student, solution):
        check = side.module("checking")
        model = check.tiny_tagger(2, 6, 31)
        losses = side.module(ECG).train_one_epoch(model, check.triple_loader(x, y, 4), check.reference_loss(),
                                                  check.adamw(model, 0.05, 0.01), 0.5)
        results.append((losses, check.get_parameters(model)))
    (losses, params), (ref_losses, ref_params) = results
    assert_close(losses, ref_losses, rtol=1e-5, name="losses of the 3 batches")
    for i, (a, b) in enumerate(zip(params, ref_params)):
        assert_close(a, b, rtol=1e-4, atol=1e-6, name=f"parameter #{i} after 3 clipped AdamW steps")


@pytest.mark.task("A4.7", weight=3)
def test_pipeline_finds_r_peaks_on_a_real_record(student):
    """Everything together: ECGDataset, ECGDetector, the loss, the training step and peak
    picking, trained for seconds on synthetic ECG, then run on MIT-BIH record 100."""
    from dlcc.data.resolve import ensure
    from dlcc.errors import DlccError
    from dlcc.metrics.events import event_scores

    try:
        ensure("mitbih", only=["100.hea", "100.dat", "100.atr"], allow_download=False)
    except DlccError as exc:
        pytest.skip(f"MIT-BIH record 100 is not available to the grader: {exc.message}")
    util, ecg = student.module("util"), student.module(ECG)
    train = util.load_records.keep("synthetic", seconds=30, n_synthetic=3, seed=50)
    val = util.load_records.keep("synthetic", seconds=10, n_synthetic=1, seed=60)
    args = Namespace(seq_length=128, num_starts=1, sigma=2.0, n_layer=2, n_head=2, n_embd=32, dropout=0.0,
                     num_epochs=6, batch_size=16, learning_rate=3e-3, reg=0.0, clip=1.0, warmup_steps=1, seed=0,
                     use_gpu=False)
    model, history = ecg.run_training(args, train, val)
    (real,) = util.load_records("mitbih", ["100"], seconds=60, start_s=300)   # minute 5 of record 100
    found = ecg.detect(model, real["signal"], 128)
    scores = event_scores(real["r_peaks"], found, 360)
    assert scores["f1"] > 0.95, \
        f"on one minute of MIT-BIH record 100 the trained model found {scores['tp']} of {len(real['r_peaks'])} " \
        f"R peaks with {scores['fp']} false detections (F1 {scores['f1']:.3f}); a working pipeline finds them " \
        f"all. Training losses per epoch: {[round(v, 4) for v in history['loss_train']]}"


def bumpy_trace(rng, T=2000, n=25):
    t = np.arange(T)
    probs = np.zeros(T)
    for centre, height, width in zip(rng.uniform(0, T, n), rng.uniform(0.3, 1.0, n), rng.uniform(1.5, 6, n)):
        probs += height * np.exp(-0.5 * ((t - centre) / width) ** 2)
    probs = np.abs(probs + rng.normal(0, 0.01, T))
    return probs / probs.max()   # in [0, 1] without clipping (clipping would make plateaus)


@pytest.mark.task("A4.8")
@pytest.mark.parametrize("p_thresh,d_thresh", [(0.5, 10), (0.75, 40), (0.3, 3)])
def test_find_triggers_matches_solution(student, solution, p_thresh, d_thresh):
    rng = np.random.default_rng(int(p_thresh * 100) + d_thresh)
    for _ in range(3):
        probs = bumpy_trace(rng)
        got = student.module(ECG).find_triggers(probs, p_thresh, d_thresh)
        expected = solution.module(ECG).find_triggers(probs, p_thresh, d_thresh)
        assert_close(np.sort(np.asarray(got)), expected,
                     name=f"triggers (p_thresh {p_thresh}, d_thresh {d_thresh}; {len(expected)} expected)")


@pytest.mark.task("A4.8")
def test_find_triggers_edges_and_plateaus(student, solution):
    cases = [np.array([0.9, 0.8, 0.1, 0.1, 0.95]),          # maxima at both ends
             np.array([0.1, 0.9, 0.9, 0.9, 0.1, 0.1]),      # a plateau: one trigger
             np.array([0.76, 0.1, 0.1, 0.1, 0.1, 0.1, 0.76, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.76])]
    for probs in cases:
        got = student.module(ECG).find_triggers(probs, 0.75, 5)
        expected = solution.module(ECG).find_triggers(probs, 0.75, 5)
        assert_close(np.asarray(got), expected, name=f"triggers of {probs.tolist()}")


@pytest.mark.task("A4.8")
@pytest.mark.parametrize("probs", [
    [0.95, 0.9, 0.1, 0.1, 0.1],             # a neighbour before index 1 is higher: not a maximum
    [0.1, 0.8, 0.1, 0.1, 0.9, 0.1],         # a higher value 3 samples on is outside the window
    [0.75, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1],   # exactly p_thresh is not above it
])
def test_find_triggers_window_and_threshold(student, solution, probs):
    """The local-maximum window is 2 samples on either side and the threshold is strict."""
    probs = np.array(probs)
    got = student.module(ECG).find_triggers(probs, 0.75, 1)
    expected = solution.module(ECG).find_triggers(probs, 0.75, 1)
    assert_close(np.asarray(got), expected, name=f"triggers of {probs.tolist()} (d_thresh 1)")
