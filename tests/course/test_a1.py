"""Assignment A1 (NumPy MLP on MNIST) in the course format.

Fast: public tests fail on the stubs and pass on the solution (the release itself is compared
with the one shipped in the package by test_shipped.py). Slow (real MNIST): the script trains and saves its curves, and a class of
deliberately broken submissions gets exact scores. (`dlcc course check A1`: test_check_all.py.)
"""

import shutil

import numpy as np
import pytest

from dlcc.course import runner
from dlcc.course.authoring.format import Assignment
from dlcc.course.grading.grade import grade
from dlcc.course.authoring.check import check
from dlcc.course.authoring.release import release

from coursepaths import REPO

A1 = REPO / "assignments" / "A1"


@pytest.fixture(scope="module")
def a1():
    return Assignment.load(A1)


def test_static_check_of_a1(a1):
    report = check(a1, run_tests=False, progress=lambda m: None)
    assert report.problems == []
    assert "31 tests: 12 public, 19 hidden" in report.info


def test_public_tests_fail_on_stubs_and_pass_on_solution(a1, tmp_path):
    rel = release(a1, tmp_path / "A1")
    stubs, _ = runner.run_local(rel, rel / "tests")
    assert len(stubs["tests"]) == 12 and all(t["outcome"] == "failed" for t in stubs["tests"])
    assert all("NotImplementedError: A1." in t["message"] for t in stubs["tests"])
    for name in a1.student_files:
        shutil.copyfile(a1.code_dir / name, rel / name)
    solved, _ = runner.run_local(rel, rel / "tests")
    assert [t["name"] for t in solved["tests"] if t["outcome"] != "passed"] == []


def test_util_plot_curves_writes_png(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("a1_util", A1 / "src" / "util.py")
    util = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(util)
    history = {"loss_train": [1.0, 0.5], "loss_val": [1.1, 0.7],
               "accu_train": [0.6, 0.8], "accu_val": [0.5, 0.7]}
    png = util.plot_curves(history, tmp_path / "results" / "base_line.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.allclose(util.sigmoid(np.array([-800.0, 0.0, 800.0])), [0.0, 0.5, 1.0])
    assert np.allclose(util.softmax(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]])


@pytest.mark.data
def test_util_load_data_split_and_scaling(shared_data, tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("a1_util", A1 / "src" / "util.py")
    util = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(util)
    data = util.load_data()
    (xt, yt), (xv, yv), (xs, ys) = data["train"], data["val"], data["test"]
    assert ys.shape == (10000, 10)
    assert xt.shape == (50000, 784) and xv.shape == (10000, 784) and xs.shape == (10000, 784)
    assert yt.shape == (50000, 10) and np.all(yt.sum(axis=1) == 1)
    assert abs(xt.mean()) < 1e-9 and abs(xt.std() - 1) < 1e-9  # scalar z-scoring of train
    assert abs(xv.mean()) < 0.05 and abs(xs.mean()) < 0.05     # val/test use train's statistics
    assert np.array_equal(util.load_data()["val"][1], yv)       # the split is reproducible


@pytest.mark.slow
@pytest.mark.data
def test_a1_script_trains_and_saves_curves(shared_data, tmp_path, capsys):
    import importlib
    import sys

    work = tmp_path / "A1"
    shutil.copytree(A1 / "src", work)
    sys.path.insert(0, str(work))
    try:
        for name in ("util", "a1_mlp_3_layers"):
            sys.modules.pop(name, None)
        mlp = importlib.import_module("a1_mlp_3_layers")
        accuracy = mlp.main(["--num_epochs", "2", "--results_dir", str(work / "results")])
    finally:
        sys.path.remove(str(work))
        for name in ("util", "a1_mlp_3_layers"):
            sys.modules.pop(name, None)
    assert 0.8 < accuracy <= 1.0
    assert (work / "results" / "base_line.png").read_bytes()[:4] == b"\x89PNG"
    assert "epoch 2/2" in capsys.readouterr().out


# Deliberately broken submissions: (file, exact old text, new text), and the tests that must fail.
BROKEN = {
    # a wrong formula: the loss is summed over the batch instead of averaged
    "wrong_formula": ("a1_mlp_3_layers.py",
                      "    loss = -np.sum(labels * np.log(y_hat + 1e-8)) / data.shape[0]\n    params.update",
                      "    loss = -np.sum(labels * np.log(y_hat + 1e-8))\n    params.update"),
    # the L2 term is forgotten in the gradient
    "missing_reg_gradient": ("a1_mlp_3_layers.py",
                             "            grad[key] = grad[key] + 2 * reg * params[key]\n",
                             "            pass\n"),
    # W3 is created transposed, [C, H2] instead of [H2, C]
    "transposed_weight": ("a1_mlp_3_layers.py",
                          'params["W3"] = np.random.randn(num_hidden2, num_output)',
                          'params["W3"] = np.random.randn(num_output, num_hidden2)'),
    # batches start one batch late (N-layer file)
    "off_by_one_batching": ("a1_mlp_N_layers.py",
                            "            start = it * args.batch_size\n",
                            "            start = (it + 1) * args.batch_size\n"),
}
H3, HN = "test_a1_3_layers_hidden.py", "test_a1_N_layers_hidden.py"
P3, PN = "test_a1_3_layers.py", "test_a1_N_layers.py"
FAILING = {
    "solution": set(),
    "wrong_formula": {f"A1.2 {P3}::test_forward_known_values",
                      f"A1.2 {H3}::test_forward_matches_solution[10]",
                      f"A1.2 {H3}::test_forward_matches_solution[11]",
                      f"A1.2 {H3}::test_forward_large_scores_stay_finite",
                      # the numerical gradient of a summed loss is B times too large
                      f"A1.3 {P3}::test_backward_matches_numerical_gradient",
                      f"A1.3 {P3}::test_backward_with_l2_regularization",
                      # the recorded training loss is 20 times too large
                      f"A1.4 {P3}::test_overfit_one_batch"},
    "missing_reg_gradient": {f"A1.3 {P3}::test_backward_with_l2_regularization",
                             f"A1.3 {H3}::test_backward_regularization_matches_solution",
                             f"A1.3 {H3}::test_backward_strong_regularization_leaves_biases_alone",
                             f"A1.4 {H3}::test_one_epoch_matches_solution"},
    "transposed_weight": {f"A1.1 {P3}::test_initialize_params_shapes",
                          f"A1.1 {H3}::test_initialize_params_statistics",
                          f"A1.4 {H3}::test_course_regression_mnist"},
    "off_by_one_batching": {f"A1.8 {PN}::test_overfit_one_batch",
                            f"A1.8 {HN}::test_one_epoch_matches_solution"},
}
SCORES = {"solution": 90.0, "wrong_formula": 71.86, "missing_reg_gradient": 73.71,
          "transposed_weight": 78.57, "off_by_one_batching": 80.0, "stubs": 0.0}


@pytest.mark.slow
@pytest.mark.data
def test_broken_a1_submissions_get_exact_scores(a1, shared_data, tmp_path):
    klass = tmp_path / "class"
    (klass / "solution").mkdir(parents=True)
    for name in a1.student_files:
        shutil.copyfile(a1.code_dir / name, klass / "solution" / name)
    for sub, (fname, old, new) in BROKEN.items():
        shutil.copytree(klass / "solution", klass / sub)
        text = (klass / sub / fname).read_text()
        assert text.count(old) == 1, f"{sub}: the solution no longer contains the text to break"
        (klass / sub / fname).write_text(text.replace(old, new))
    rel = release(a1, tmp_path / "release")
    shutil.copytree(rel, klass / "stubs")
    rows = dict(grade(a1, klass, tmp_path / "results", jobs=2, progress=lambda m: None))
    for sub, res in rows.items():
        assert res["extra_data"]["grader_error"] is None, (sub, res["extra_data"]["grader_error"])
        failed = {t["name"] for t in res["tests"] if t["status"] != "passed" and "written" not in t["tags"]}
        if sub == "stubs":
            assert len(failed) == 31
        else:
            assert failed == FAILING[sub], (sub, sorted(failed ^ FAILING[sub]))
        assert res["score"] == SCORES[sub], (sub, res["score"])
    regression = next(t for t in rows["transposed_weight"]["tests"] if "regression" in t["name"])
    assert "shape" in regression["output"] or "mismatch" in regression["output"], regression["output"][:500]
