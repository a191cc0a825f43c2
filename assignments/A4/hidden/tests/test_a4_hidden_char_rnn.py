"""Hidden tests for the char-RNN: the student's models against the solution's with the same
weights, training on a real (small) corpus, and reading real and non-ASCII text."""

from argparse import Namespace

import numpy as np
import pytest

from dlcc.course.checks import assert_close, assert_shape


def compare_with_solution(student, solution, cls, V, H, layers, seed):
    check, ref = student.module("checking"), solution.module("checking")
    chars = tuple(chr(ord("A") + i) for i in range(V))
    model = getattr(student.module("rnn"), cls)(chars, H, layers, 0.5)
    ref_model = getattr(solution.module("rnn"), cls)(chars, H, layers, 0.5)
    rng = np.random.default_rng(seed)
    state = {k: rng.normal(scale=0.4, size=np.shape(v)).astype(np.float32) for k, v in check.state_dict(model).items()}
    check.load_state_dict(model, state)
    ref.load_state_dict(ref_model, state)
    x = np.eye(V, dtype=np.float32)[rng.integers(0, V, size=(4, 7))]
    for hidden in (None, ref.init_hidden(ref_model, 4)):
        if hidden is not None:  # a non-zero starting state
            hidden = tuple(rng.normal(size=np.shape(h)).astype(np.float32) for h in hidden) \
                if isinstance(hidden, tuple) else rng.normal(size=np.shape(hidden)).astype(np.float32)
        out, new_hidden = check.char_forward(model, x, hidden)
        ref_out, ref_hidden = ref.char_forward(ref_model, x, hidden)
        assert_shape(out, (28, V), name="out")
        assert_close(out, ref_out, rtol=1e-4, atol=1e-5, name=f"{cls} out ({layers} layers)")
        for got, exp in zip(new_hidden if isinstance(ref_hidden, tuple) else [new_hidden],
                            ref_hidden if isinstance(ref_hidden, tuple) else [ref_hidden]):
            assert_close(got, exp, rtol=1e-4, atol=1e-5, name=f"{cls} new hidden state")
    train_out, _ = check.char_forward(model, x, None, train=True)
    assert not np.allclose(train_out, out), f"{cls} in training mode gives the same output as in eval " \
                                            "mode: the dropout before the Linear layer is missing"


@pytest.mark.task("A4.1")
@pytest.mark.parametrize("V,H,layers", [(7, 5, 1), (12, 9, 3)])
def test_lstm_matches_solution(student, solution, V, H, layers):
    compare_with_solution(student, solution, "CharLSTM", V, H, layers, seed=V)


@pytest.mark.task("A4.2")
@pytest.mark.parametrize("V,H,layers", [(7, 5, 1), (12, 9, 3)])
def test_gru_matches_solution(student, solution, V, H, layers):
    compare_with_solution(student, solution, "CharGRU", V, H, layers, seed=V + 1)


def train_on_embedded_corpus(student, kind):
    from dlcc.text.corpus import embedded_corpus

    text = embedded_corpus()
    chars = tuple(sorted(set(text)))
    encoded = np.array([chars.index(c) for c in text], dtype=np.int64)
    args = Namespace(rnn=kind, n_hidden=64, n_layers=1, drop_prob=0.0, num_epochs=4, batch_size=4, seq_length=32,
                     learning_rate=1e-2, n_batch_for_para_update=2, clip=5.0, prime="We", sample_every=0, seed=0,
                     use_gpu=False)
    _, history = student.module("a4_char_rnn").run_training(args, encoded, chars)
    final = history["loss_val"][-1]
    assert final < 2.8, f"{kind.upper()} char-RNN: validation loss {final:.3f} nats/char after 4 epochs on the " \
                        f"embedded corpus (ln {len(chars)} = {np.log(len(chars)):.2f} is a uniform guess); a " \
                        "working model gets below 2.8"


@pytest.mark.task("A4.1")
def test_lstm_learns_a_small_corpus(student):
    train_on_embedded_corpus(student, "lstm")


@pytest.mark.task("A4.2")
def test_gru_learns_a_small_corpus(student):
    train_on_embedded_corpus(student, "gru")


@pytest.mark.task("A4.3")
def test_non_ascii_text_in_several_files(student):
    parts = ["Naïve café —\n", "Ünïcode: αβγ\n", "", "end"]
    paths = student.module("checking").write_text_files(parts)
    char_rnn = student.module("a4_char_rnn")
    text = char_rnn.read_text(paths)
    assert text == "".join(parts), f"read_text gave {text!r}"
    chars, encoded = char_rnn.encode_text(text)
    assert list(chars) == sorted(set(text)), f"vocabulary {chars!r} is not the sorted set of characters"
    assert_close(encoded, [sorted(set(text)).index(c) for c in text], name="encoded text")


@pytest.mark.task("A4.3")
def test_tinyshakespeare(student):
    from dlcc.data.resolve import ensure
    from dlcc.errors import DlccError

    try:
        (path,) = ensure("tinyshakespeare", allow_download=False).paths.values()
    except DlccError as exc:
        pytest.skip(f"tinyshakespeare is not available to the grader: {exc.message}")
    expected = path.read_text(encoding="utf-8")
    char_rnn = student.module("a4_char_rnn")
    text = char_rnn.read_text([str(path.resolve())])   # the real path: the sandbox sees no symlinks
    assert len(text) == len(expected) and text == expected, \
        f"read_text of tinyshakespeare gave {len(text):,} characters, expected {len(expected):,}"
    chars, encoded = char_rnn.encode_text(expected[:20000])
    vocab = sorted(set(expected[:20000]))
    assert list(chars) == vocab, "vocabulary of the first 20,000 characters of tinyshakespeare"
    assert_close(encoded, [vocab.index(c) for c in expected[:20000]], name="encoded tinyshakespeare")
