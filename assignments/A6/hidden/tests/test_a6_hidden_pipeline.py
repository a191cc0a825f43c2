"""Hidden tests of A6: the metrics on awkward inputs, byte-stable JSON, and the student's
evaluate stage inside a real `dvc repro` (fresh project, second repro a no-op, a param change)."""

import numpy as np
import pytest

from dlcc.course.checks import assert_close

EVAL = "a6_evaluate"


@pytest.mark.task("A6.1")
def test_metrics_match_the_solution_on_random_logits(student, solution):
    rng = np.random.default_rng(6)
    for n, k in ((50, 10), (7, 3), (1, 2)):
        logits, targets = rng.normal(scale=4, size=(n, k)), rng.integers(0, k, size=n)
        names = [f"c{i}" for i in range(k)]
        got = student.module(EVAL).classification_metrics(logits, targets, names)
        want = solution.module(EVAL).classification_metrics(logits, targets, names)
        assert got["n_test"] == want["n_test"] and got["test_per_class_accuracy"] == want["test_per_class_accuracy"]
        for key in ("test_accuracy", "test_loss"):
            assert_close(got[key], want[key], rtol=1e-7, name=f"{key} (N={n}, K={k})")


@pytest.mark.task("A6.1")
def test_the_loss_is_finite_for_huge_logits(student):
    logits = np.array([[1000.0, -1000.0], [-800.0, 900.0]])
    got = student.module(EVAL).classification_metrics(logits, np.array([1, 1]), ["x", "y"])
    assert_close(got["test_loss"], 1000.0, rtol=1e-9, name="test_loss of [[1000, -1000], [-800, 900]], targets [1, 1]")
    assert got["test_per_class_accuracy"] == {"x": None, "y": 0.5}


@pytest.mark.task("A6.2")
def test_equal_dicts_give_equal_bytes(student):
    pipe, module = student.module("a6_pipeline"), student.module(EVAL)
    first = {"b": 1, "a": {"z": 0.5, "y": [1, 2]}, "c": None}
    second = {"c": None, "a": {"y": [1, 2], "z": 0.5}, "b": 1}
    folder = pipe.scratch_folder()
    module.write_json(f"{folder}/one.json", first)
    module.write_json(f"{folder}/two.json", second)
    one = pipe.raw(folder, "one.json")
    assert one == pipe.raw(folder, "two.json"), "equal dicts written in another key order differ in their bytes"
    assert pipe.read(folder, "one.json") == first
    assert one.endswith("}\n") and '\n  "a": {\n    "y": [' in one, "sorted keys (nested too), indent 2, final newline"


@pytest.mark.task("A6.2")
def test_split_timings_keeps_every_other_key(student):
    metrics = {"fit_time_s": 1.0, "fit_cpu_time_s": 0.9, "time_s_total": 3, "n_params": 10, "selected_on": "val"}
    stable, timings = student.module(EVAL).split_timings(metrics)
    assert stable == {"time_s_total": 3, "n_params": 10, "selected_on": "val"}
    assert timings == {"fit_time_s": 1.0, "fit_cpu_time_s": 0.9}


@pytest.mark.task("A6.3", timeout=900, weight=2)
def test_dvc_repro_runs_the_stage_and_reproduces_it(student):
    pipe = student.module("a6_pipeline")
    project = pipe.make_project()
    assert pipe.repro(project) == ["prepare", "train", "evaluate", "export"]
    assert pipe.repro(project) == [], "a second dvc repro must do nothing"
    metrics = pipe.read(project, "metrics.json")
    reference = pipe.reference(project)
    assert sorted(metrics) == sorted(reference["metrics.json"])
    for key, value in reference["metrics.json"].items():
        if isinstance(value, float):
            assert_close(metrics[key], value, rtol=1e-5, name=key)
        else:
            assert metrics[key] == value, key
    assert pipe.read(project, "eval/predictions.csv") == reference["eval/predictions.csv"]
    before = pipe.read(project, "metrics.json")
    # the stage again on the same model (dvc repro --force evaluate): metrics.json byte for byte
    text = pipe.raw(project, "metrics.json")
    assert pipe.repro(project, "--force", "--single-item", "evaluate") == ["evaluate"]
    assert pipe.raw(project, "metrics.json") == text, "metrics.json changed on the same model"
    assert pipe.read(project, "metrics.json") == before


@pytest.mark.task("A6.3", timeout=600)
def test_the_stage_times_itself_and_never_unpickles(student):
    pipe = student.module("a6_pipeline")
    project = pipe.make_project()
    pipe.train_only(project)
    pipe.evaluate_on_a_stopped_clock(project, [100.0, 102.3456789])
    assert pipe.read(project, "timings.json")["evaluate_time_s"] == 2.346, \
        "evaluate_time_s: perf_counter 100.0 at the start and 102.3456789 at the end give 2.346 (3 decimals)"
    for name in ("data/test_y.npy", "data/test_x.npy"):   # an object array is a pickle: allow_pickle=False refuses it
        pipe.plant_pickle(project, name)
        with pytest.raises(Exception, match="allow_pickle"):
            student.module(EVAL).evaluate_stage(project)
        pipe.unplant(project, name)
