"""The few-shot recipes through `dlcc run`: a tiny run end to end on real MNIST (seconds), and
bad requests refused with one clear message and exit 2, no traceback."""

from __future__ import annotations

import json

import pytest

from dlcc.cli import main
from dlcc.recipes import load_run

TINY = ["model.width=8", "train.steps=4", "train.eval_every=2", "data.per_class=40", "fewshot.queries=5",
        "fewshot.val_episodes=3", "fewshot.test_episodes=6"]


def _run(capsys, recipe, *sets, out=None):
    args = ["run", recipe, "--no-progress", *(["--out", str(out)] if out else [])]
    code = main(args + [a for s in sets for a in ("--set", s)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def mnist(shared_data, decoded_cache, monkeypatch):
    monkeypatch.setenv("DLCC_CACHE", str(decoded_cache))


@pytest.mark.data
@pytest.mark.slow   # seconds on an idle machine; decoding MNIST into the session cache comes on top
def test_tiny_protonet_run_writes_accuracy_with_a_confidence_interval(mnist, tmp_path, capsys):
    code, _, err = _run(capsys, "mnist-protonet", *TINY, out=tmp_path / "run")
    assert code == 0, err
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0 <= m["test_accuracy"] <= 1 and m["test_ci95"] >= 0 and m["test_episodes"] == 6
    assert (m["test_ways"], m["test_shots"], m["steps"]) == (5, 5, 4) and "val_accuracy" in m
    loaded = load_run(tmp_path / "run")
    assert type(loaded.model).__name__ == "Conv4"


@pytest.mark.data
@pytest.mark.slow
def test_tiny_second_order_maml_run(mnist, tmp_path, capsys):
    code, _, err = _run(capsys, "mnist-maml", *TINY, "maml.second_order=true", "maml.inner_steps=1",
                        "maml.test_inner_steps=2", out=tmp_path / "run")
    assert code == 0, err
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["test_shots"] == 1 and 0 <= m["test_accuracy"] <= 1


@pytest.mark.parametrize("recipe, sets, words", [
    ("mnist-protonet", ["fewshot.ways=12"], ["fewshot.ways=12", "has 5"]),
    ("cifar10-protonet", ["fewshot.ways=6"], ["fewshot.ways=6", "has 5"]),
    ("mnist-maml", ["data.test_classes=[4,5,6,7,8]"], ["share [4]", "unseen"]),
    ("mnist-protonet", ["fewshot.shots=0"], ["fewshot.shots"]),
    ("mnist-protonet", ["data.train_classes=[0,1,12]"], ["train_classes"]),
    ("mnist-protonet", ["fewshot.train_ways=30"], ["fewshot.train_ways=30", "there are 20", "data.rotations=4"]),
    ("mnist-protonet", ["data.rotations=1"], ["fewshot.train_ways=20", "there are 5"]),
    ("mnist-protonet", ["data.rotations=5"], ["data.rotations"]),
    ("mnist-maml", ["fewshot.train_ways=20"], ["fewshot.train_ways=20", "MAML"]),
    ("mnist-protonet", ["model.depth=5"], ["model.depth=5", "28x28", "model.depth=4"]),
    ("mnist-protonet", ["model.depth=0"], ["model.depth"]),
])
def test_bad_settings_exit_2_before_any_data_is_read(recipe, sets, words, capsys):
    code, out, err = _run(capsys, recipe, *sets)
    assert code == 2 and "Traceback" not in out + err
    for word in words:
        assert word in err, err


@pytest.mark.data
def test_more_shots_and_queries_than_a_class_holds_exits_2(mnist, capsys):
    code, out, err = _run(capsys, "mnist-protonet", "data.per_class=10", "fewshot.shots=5", "fewshot.queries=15")
    assert code == 2 and "Traceback" not in out + err
    assert "fewshot.shots=5 + fewshot.queries=15 = 20 examples per class" in err and "has only 10" in err
    assert "at most 10" in err


@pytest.mark.data
def test_rotated_training_classes_are_turned_copies_with_their_own_labels(mnist):
    import torch

    from dlcc.recipes.fewshot import FewShotData, load_pools, rotated_classes

    d = FewShotData(per_class=3, rotations=4)
    assert rotated_classes(d) == [c + 10 * r for r in range(4) for c in range(5)]
    pools = load_pools("mnist", d, seed=0)
    x, y = pools["train"]
    assert x.shape == (60, 1, 28, 28) and sorted(set(y.tolist())) == sorted(rotated_classes(d))
    for r in range(1, 4):   # the r-th block is the unturned block turned r quarter turns
        assert torch.equal(x[15 * r:15 * (r + 1)], torch.rot90(x[:15], r, (2, 3)))
        assert torch.equal(y[15 * r:15 * (r + 1)], y[:15] + 10 * r)
    assert set(pools["val"][1].tolist()) == set(range(5))   # validation and test images are never turned
    assert set(pools["test"][1].tolist()) == set(range(5, 10))


def test_model_depth_sets_the_embedding_size():
    import torch

    from dlcc.recipes.fewshot import MAMLConfig, ProtoConfig, build_model

    cfg = ProtoConfig()
    cfg.model.width, cfg.model.depth = 8, 3
    assert build_model(cfg)(torch.zeros(2, 1, 28, 28)).shape == (2, 8 * 3 * 3)   # 28 -> 14 -> 7 -> 3
    maml = MAMLConfig()
    maml.model.width, maml.model.depth = 8, 2
    assert build_model(maml)(torch.zeros(2, 1, 28, 28)).shape == (2, 5)
    assert maml.model.depth == 2 and build_model(maml).head.in_features == 8 * 7 * 7
