"""The sequence recipes end to end on embedded data (tiny settings), and their bad-input paths."""

import json

import numpy as np
import pytest

from dlcc.cli import main

TINY_GPT = ["data.corpus=embedded", "train.steps=6", "train.eval_every=3", "data.eval_batches=2",
            "train.warmup_steps=2", "train.batch_size=4", "data.seq_len=16", "model.n_layer=1",
            "model.n_embd=16", "model.n_head=2", "sample.length=20"]
TINY_RNN = ["data.corpus=embedded", "train.epochs=1", "train.batch_size=4", "data.seq_len=16",
            "model.hidden=16", "model.layers=1", "sample.length=20", "train.warmup_steps=2"]
TINY_ECG = ["data.source=synthetic", "data.synthetic.records=3", "data.synthetic.seconds=20",
            "data.chunk_length=256", "data.chunks_per_record=8", "train.epochs=2", "train.batch_size=8",
            "train.warmup_steps=1", "detect.hop=128", "plots.records=1"]
ECG_MODELS = {"transformer": ["model.n_layer=1", "model.n_embd=16", "model.n_head=2"],
              "gru": ["model.hidden=8", "model.layers=1"],
              "tcn": ["model.channels=8", "model.levels=4"]}


def run(args, tmp_path, capsys, name="run"):
    out = tmp_path / name
    sets = [x for a in args[1:] for x in ("--set", a)]
    code = main(["run", args[0], *sets, "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    return code, out, captured


@pytest.mark.parametrize("recipe,tiny", [("char-gpt", TINY_GPT), ("char-lstm", TINY_RNN), ("char-gru", TINY_RNN)])
def test_char_recipes_on_the_embedded_corpus(recipe, tiny, tmp_path, capsys):
    code, out, captured = run([recipe, *tiny], tmp_path, capsys)
    assert code == 0, captured.err
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("val_loss", "val_loss_full_text", "val_bpc", "train_tokens_per_s", "sample_tokens_per_s",
                "train_time_s", "steps", "best_step"):
        assert metrics[key] is not None, key
    assert 0 < metrics["val_loss"] < 5 and 0 < metrics["val_loss_full_text"] < 5
    assert (out / "samples.txt").read_text().startswith("We, the people ")
    assert json.loads((out / "vocab.json").read_text())["chars"].startswith("\n ")
    assert (out / "checkpoints" / "last.pt").is_file() and (out / "curves.png").is_file()
    assert (out / "model.pt").is_file()


def test_char_gpt_keeps_the_best_evaluation_and_reports_a_test_part(tmp_path, capsys):
    code, out, captured = run(["char-gpt", *TINY_GPT, "data.test_frac=0.1", "train.steps=9"], tmp_path, capsys)
    assert code == 0, captured.err
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "history.json").read_text())
    best = min(history, key=lambda row: row["val_loss"])
    assert [row["step"] for row in history] == [3, 6, 9]
    assert metrics["best_step"] == best["step"] and metrics["val_loss"] == best["val_loss"]
    assert 0 < metrics["test_loss"] < 5 and metrics["test_bpc"] > 0


def test_char_gpt_time_budget_stops_training(tmp_path, capsys):
    code, out, captured = run(["char-gpt", *TINY_GPT, "train.steps=null", "train.time_budget_s=0.5"],
                              tmp_path, capsys)
    assert code == 0, captured.err
    assert "time budget of 0.5 s of training" in captured.out
    assert json.loads((out / "metrics.json").read_text())["steps"] >= 1


def test_unseen_characters_in_the_prime_are_a_clear_error(tmp_path, capsys):
    code, _, captured = run(["char-lstm", *TINY_RNN, "train.epochs=1", "sample.prime=Grüße €"],
                            tmp_path, capsys)
    assert code == 2
    assert "never saw in training" in captured.err and "'€'" in captured.err and "'ü'" in captured.err
    assert "sample.unknown=drop" in captured.err and "Traceback" not in captured.err


def test_unseen_characters_can_be_dropped(tmp_path, capsys):
    code, out, captured = run(["char-gru", *TINY_RNN, "sample.prime='We€ '", "sample.unknown=drop"], tmp_path, capsys)
    assert code == 0, captured.err
    assert (out / "samples.txt").read_text().startswith("We ")


def test_missing_corpus_file(tmp_path, capsys):
    code, _, captured = run(["char-gpt", *TINY_GPT, f"data.corpus={tmp_path / 'nope.txt'}"], tmp_path, capsys)
    assert code == 2 and "nope.txt does not exist" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("kind", ["transformer", "gru", "tcn"])
def test_ecg_recipes_on_synthetic_records(kind, tmp_path, capsys):
    code, out, captured = run([f"ecg-rpeak-{kind}", *TINY_ECG, *ECG_MODELS[kind], "detect.save_probs=true"],
                              tmp_path, capsys)
    assert code == 0, captured.err
    probs = np.load(out / "probs.npz")
    assert sorted(probs.files) == ["test/syn2", "val/syn1"]
    assert probs["test/syn2"].shape == (20 * 360,) and 0 <= probs["test/syn2"].min() <= probs["test/syn2"].max() <= 1
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("test_f1", "test_sensitivity", "test_ppv", "test_loss", "val_loss", "val_f1"):
        assert metrics[key] is not None, key
    assert 0.0 <= metrics["test_f1"] <= 1.0
    per = json.loads((out / "per_record.json").read_text())
    assert list(per["test"]) == ["syn2"] and per["overall"]["f1"] == metrics["test_f1"]
    assert (out / "ecg_test_syn2.png").stat().st_size > 10_000


def test_ecg_split_must_be_by_record(tmp_path, capsys):
    code, _, captured = run(["ecg-rpeak-tcn", "data.train_records=[100, 101]", "data.test_records=[101]"],
                            tmp_path, capsys)
    assert code == 2
    assert "record(s) 101 are in both data.train_records and data.test_records" in captured.err


@pytest.mark.filterwarnings("ignore:skipping")
def test_ecg_records_shorter_than_a_chunk(tmp_path, capsys):
    code, _, captured = run(["ecg-rpeak-tcn", *TINY_ECG, "data.synthetic.seconds=2", "data.chunk_length=1024"],
                            tmp_path, capsys)
    assert code == 2 and "no record is at least one chunk (1024 samples) long" in captured.err


def test_ecg_unknown_source_and_records(tmp_path, capsys):
    code, _, captured = run(["ecg-rpeak-tcn", "data.source=holter"], tmp_path, capsys)
    assert code == 2 and "data.source='holter' is not valid" in captured.err


@pytest.mark.data
def test_ecg_unknown_record_is_named_whole(shared_data, tmp_path, capsys):
    code, out, captured = run(["ecg-rpeak-tcn", "data.test_records=abc"], tmp_path, capsys)
    assert code == 2 and "unknown MIT-BIH record 'abc'" in captured.err and not out.exists()


def test_recipes_are_listed(capsys):
    assert main(["run", "--list"]) == 0
    listed = capsys.readouterr().out
    for name in ("char-lstm", "char-gru", "char-gpt", "ecg-rpeak-transformer", "ecg-rpeak-gru", "ecg-rpeak-tcn"):
        assert name in listed


@pytest.mark.slow
@pytest.mark.data
def test_ecg_tcn_on_mitbih_records(shared_data, tmp_path, capsys):
    code, out, captured = run(["ecg-rpeak-tcn", "data.train_records=[100]", "data.val_records=[101]",
                               "data.test_records=[103]", "train.epochs=1", "data.chunks_per_record=64",
                               "model.channels=8", "model.levels=6"], tmp_path, capsys)
    assert code == 0, captured.err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_tp"] + metrics["test_fn"] == 2084      # every beat of record 103 is scored


def test_auto_threshold_comes_from_validation_records():
    import numpy as np

    from dlcc.config import apply_overrides, validate
    from dlcc.errors import ConfigError
    from dlcc.recipes.ecg_rpeak import Detect, EcgConfig, choose_threshold

    probs = np.zeros(3600)
    probs[[360, 1080, 1800]] = 0.9         # three strong beats
    probs[[720, 2520]] = 0.35              # two weak true beats
    probs[3000] = 0.2                      # one artefact
    truth = {"v": np.array([360, 720, 1080, 1800, 2520])}
    th = choose_threshold(Detect(threshold="auto"), {"v": probs}, truth, 360.0)
    assert 0.2 <= th < 0.35                # catches the weak beats, not the artefact
    assert choose_threshold(Detect(threshold=0.7), {"v": probs}, truth, 360.0) == 0.7
    with pytest.raises(ConfigError, match="detect.threshold='high' is not valid"):
        validate(apply_overrides(EcgConfig(), ["detect.threshold=high"]))


def test_char_rnn_gradient_accumulation_counts_optimizer_steps(tmp_path, capsys):
    code, out, captured = run(["char-lstm", *TINY_RNN, "train.grad_accum_steps=2"], tmp_path, capsys)
    assert code == 0, captured.err
    # 4,096 training characters in 4 rows of 16: 63 windows -> 32 optimizer steps
    assert json.loads((out / "metrics.json").read_text())["steps"] == 32


def test_char_time_budget_must_be_positive(tmp_path, capsys):
    code, _, captured = run(["char-gpt", *TINY_GPT, "train.time_budget_s=-5"], tmp_path, capsys)
    assert code == 2 and "train.time_budget_s=-5.0 is out of range" in captured.err


def test_char_gpt_single_step_runs(tmp_path, capsys):
    code, _, captured = run(["char-gpt", *TINY_GPT, "train.steps=1", "train.eval_every=1"], tmp_path, capsys)
    assert code == 0, captured.err
