"""Public tests of the evaluate stage (a6_evaluate.py). Run them with `dlcc course test A6`.

The A6.3 test builds a real pipeline (dlcc pipeline init, git, the prepare and train stages)
in a temporary folder and runs your stage on it, so it takes a minute on a laptop. The grader
runs more (hidden) tests, among them `dvc repro` of the whole pipeline with your stage in it.
"""

import numpy as np
import pytest
import yaml

from dlcc.course.checks import assert_close

EVAL = "a6_evaluate"


@pytest.mark.task("A6.1")
def test_metrics_of_three_examples(student):
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [1.0, 0.0, 0.0]])
    got = student.module(EVAL).classification_metrics(logits, np.array([0, 1, 1]), ["a", "b", "c"])
    assert sorted(got) == ["n_test", "test_accuracy", "test_loss", "test_per_class_accuracy"]
    assert got["n_test"] == 3
    assert_close(got["test_accuracy"], 2 / 3, name="test_accuracy")
    expected_loss = np.mean([np.log(np.exp(2) + 2) - 2, np.log(np.exp(3) + 2) - 3, np.log(np.e + 2)])
    assert_close(got["test_loss"], expected_loss, rtol=1e-9, name="test_loss")
    assert got["test_per_class_accuracy"] == {"a": 1.0, "b": 0.5, "c": None}


@pytest.mark.task("A6.2")
def test_timings_are_split_off_and_json_is_stable(student):
    module = student.module(EVAL)
    stable, timings = module.split_timings({"val_loss": 0.5, "train_time_s": 3.2, "epochs_run": 2,
                                            "epoch_time_s": 1.6})
    assert stable == {"val_loss": 0.5, "epochs_run": 2}
    assert timings == {"train_time_s": 3.2, "epoch_time_s": 1.6}
    folder = student.module("a6_pipeline").scratch_folder()
    module.write_json(f"{folder}/m.json", {"b": 2, "a": 1})
    assert student.module("a6_pipeline").raw(folder, "m.json") == '{\n  "a": 1,\n  "b": 2\n}\n'


@pytest.mark.task("A6.3", timeout=600)
def test_the_stage_on_a_trained_pipeline_matches_dlcc(student):
    pipe = student.module("a6_pipeline")
    project = pipe.make_project()
    pipe.train_only(project)
    threads = yaml.safe_load(pipe.read(project, "params.yaml"))["pipeline"]["threads"]
    before = pipe.torch_threads()
    pipe.torch_threads(threads + 1)
    try:
        returned = student.module(EVAL).evaluate_stage(project)
        assert pipe.torch_threads() == threads, "step 1: torch's thread count is params.yaml's pipeline.threads"
    finally:
        pipe.torch_threads(before)
    reference = pipe.reference(project)
    metrics = pipe.read(project, "metrics.json")
    assert returned == metrics, "evaluate_stage returns what it wrote to metrics.json"
    assert sorted(metrics) == sorted(reference["metrics.json"]), "metrics.json has the keys of dlcc's evaluate stage"
    assert not [k for k in metrics if k.endswith("_time_s")], "no timing in metrics.json"
    for key in ("test_accuracy", "test_loss", "val_accuracy", "epochs_run"):
        assert_close(metrics[key], reference["metrics.json"][key], rtol=1e-5, name=key)
    timings = pipe.read(project, "timings.json")
    assert sorted(timings) == sorted(reference["timings.json"]), "timings.json has the keys of dlcc's evaluate stage"
    assert pipe.read(project, "eval/predictions.csv") == reference["eval/predictions.csv"]
