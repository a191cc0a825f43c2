"""Character pipeline: vocabulary, split, batches, truncated BPTT, sampling, corpora."""

from importlib import resources

import numpy as np
import pytest
import torch

from dlcc.errors import ConfigError, DataError, InputError
from dlcc.models.rnn import CharRNN
from dlcc.models.transformer import GPT
from dlcc.text import (CarryHidden, CharVocab, RandomWindows, SequentialWindows, embedded_corpus,
                       load_corpus, sample, split_by_position)


def test_vocab_is_sorted_and_independent_of_order():
    a, b = CharVocab.from_text("hello world"), CharVocab.from_text("dlrow olleh")
    assert a.chars == b.chars == sorted(set("hello world"))
    ids = a.encode("hello")
    assert ids.dtype == np.int64 and a.decode(ids) == "hello"
    assert CharVocab.from_dict(a.to_dict()).chars == a.chars


def test_unseen_characters_are_named_or_dropped():
    vocab = CharVocab.from_text("abc ")
    with pytest.raises(InputError, match=r"2 character\(s\).*'x', 'z'") as err:
        vocab.encode("a zx")
    assert "unknown=drop" in err.value.fix or "sample.unknown=drop" in err.value.fix
    assert vocab.decode(vocab.encode("a zx", unknown="drop")) == "a "
    with pytest.raises(ConfigError):
        vocab.encode("a", unknown="replace")


def test_empty_vocab_is_an_error():
    with pytest.raises(InputError, match="empty text"):
        CharVocab.from_text("")


def test_split_by_position_keeps_order():
    ids = np.arange(100)
    train, val = split_by_position(ids, 0.1)
    assert list(train) == list(range(90)) and list(val) == list(range(90, 100))
    with pytest.raises(ConfigError):
        split_by_position(ids, 1.0)


def test_random_windows_targets_are_inputs_shifted_by_one():
    stream = np.arange(1000) % 97
    batches = list(RandomWindows(stream, batch_size=4, block_size=16, steps=3, seed=1))
    assert len(batches) == 3
    for x, y in batches:
        assert x.shape == y.shape == (4, 16) and x.dtype == torch.long
        torch.testing.assert_close(x[:, 1:], y[:, :-1])
        torch.testing.assert_close(y[:, -1], (x[:, -1] + 1) % 97)   # the stream counts up mod 97


def test_random_windows_reseed_repeats_and_default_redraws():
    stream = np.arange(500)
    fixed = RandomWindows(stream, 2, 8, 2, seed=3, reseed=True)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(list(fixed), list(fixed)))
    fresh = RandomWindows(stream, 2, 8, 2, seed=3)
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(list(fresh), list(fresh)))


def test_sequential_windows_rows_continue_across_batches():
    stream = np.arange(1001)
    batches = list(SequentialWindows(stream, batch_size=4, seq_len=10))
    assert len(batches) == 25
    (x0, y0), (x1, _) = batches[0], batches[1]
    torch.testing.assert_close(x1[:, 0], x0[:, -1] + 1)     # row b goes on where it stopped
    torch.testing.assert_close(y0, x0 + 1)
    assert x0[1, 0] == 250                                   # 4 rows of 250 characters


def test_windows_need_enough_text():
    with pytest.raises(InputError, match="has 10 characters but one batch window needs 33"):
        SequentialWindows(np.arange(10), batch_size=4, seq_len=8)
    with pytest.raises(InputError, match="validation text has 5 characters"):
        RandomWindows(np.arange(5), 2, 8, 1, what="validation")


def test_carry_hidden_equals_one_long_pass_and_truncates_gradients():
    torch.manual_seed(0)
    model = CharRNN(20, hidden=8, layers=1, cell="lstm", dropout=0.0)
    wrapper = CarryHidden(model)
    stream = np.random.default_rng(0).integers(0, 20, 2 * 30 + 1)
    x_full = torch.as_tensor(stream[:60]).view(2, 30)
    full, _ = model(x_full)
    pieces = [wrapper(x) for x, _ in SequentialWindows(stream, 2, 10)]
    torch.testing.assert_close(torch.cat(pieces, 1), full)
    pieces[-1].sum().backward()        # only the last window's graph exists: no error, finite grads
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    wrapper.eval()                     # evaluation starts from its own (empty) state
    torch.testing.assert_close(wrapper(x_full[:, :10]), full[:, :10])
    wrapper.reset()


@pytest.mark.parametrize("kind", ["rnn", "gpt"])
def test_sample_is_reproducible_and_starts_with_the_prime(kind):
    vocab = CharVocab.from_text(embedded_corpus())
    torch.manual_seed(0)
    model = CharRNN(len(vocab), 16, 1, "gru", 0.0) if kind == "rnn" else GPT(len(vocab), 8, 1, 2, 16)
    a = sample(model, vocab, "We the ", 40, temperature=0.8, top_k=5, seed=1)
    b = sample(model, vocab, "We the ", 40, temperature=0.8, top_k=5, seed=1)
    assert a == b and a.startswith("We the ") and len(a) == len("We the ") + 40
    assert model.training        # mode restored


def test_top_k_one_is_greedy_decoding():
    vocab = CharVocab.from_text("abcdef")
    torch.manual_seed(0)
    model = GPT(len(vocab), 4, 1, 1, 8).eval()
    text = sample(model, vocab, "ab", 6, top_k=1, seed=5)
    ids = list(vocab.encode("ab"))
    for _ in range(6):
        ctx = torch.as_tensor(ids[-4:])[None]
        ids.append(int(model(ctx)[0, -1].argmax()))
    assert text == vocab.decode(ids)


def test_sampling_rejects_bad_settings_and_unseen_prime():
    vocab = CharVocab.from_text("abc")
    model = CharRNN(3, 4, 1, "gru", 0.0)
    with pytest.raises(InputError, match="'Z'"):
        sample(model, vocab, "aZ", 5)
    assert sample(model, vocab, "aZ", 3, unknown="drop").startswith("a")
    with pytest.raises(InputError, match="no character the model knows"):
        sample(model, vocab, "ZZ", 3, unknown="drop")
    with pytest.raises(ConfigError, match="temperature"):
        sample(model, vocab, "a", 3, temperature=0)
    with pytest.raises(ConfigError, match="top_k"):
        sample(model, vocab, "a", 3, top_k=0)


def test_embedded_corpus_ships_with_the_package():
    text = embedded_corpus()
    assert resources.files("dlcc.text").joinpath("american_speeches.txt").is_file()
    assert text.startswith("We the People") and "Four score and seven years ago" in text
    assert len(text) > 4000 and load_corpus("embedded") == text


def test_load_corpus_from_a_file_and_its_errors(tmp_path):
    good = tmp_path / "mine.txt"
    good.write_text("to be or not to be\n", encoding="utf-8")
    assert load_corpus(str(good)) == "to be or not to be\n"
    with pytest.raises(DataError, match="does not exist"):
        load_corpus(str(tmp_path / "missing.txt"))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8") as err:
        load_corpus(str(latin))
    assert "iconv" in err.value.fix
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(DataError, match="is empty"):
        load_corpus(str(empty))
    assert latin.read_bytes() == "caf\xe9".encode("latin-1")   # inputs untouched


@pytest.mark.data
def test_tinyshakespeare_through_the_data_layer(shared_data):
    text = load_corpus("tinyshakespeare")
    assert len(text) == 1_115_394 and len(CharVocab.from_text(text)) == 65
