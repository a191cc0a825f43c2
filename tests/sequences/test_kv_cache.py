"""The GPT's KV cache: incremental logits equal full passes, and sampling gives the same text."""

import pytest
import torch

from dlcc.errors import ConfigError, InputError
from dlcc.models.transformer import BERT, GPT, KVCache
from dlcc.text import CharVocab, sample

VOCAB = CharVocab.from_text("abcdefghij ")


def tiny_gpt(block=12, seed=0):
    torch.manual_seed(seed)
    return GPT(len(VOCAB), block, n_layer=2, n_head=2, n_embd=16).eval()


@torch.no_grad()
def test_incremental_logits_equal_one_full_pass():
    model = tiny_gpt()
    idx = torch.randint(0, len(VOCAB), (2, 12))
    full = model(idx)
    cache = KVCache(model, batch_size=2)
    # a prompt, a chunk of several tokens after cached ones (offset causal mask), then one at a time
    pieces = [model(idx[:, :4], cache), model(idx[:, 4:7], cache)]
    pieces += [model(idx[:, t:t + 1], cache) for t in range(7, 12)]
    assert len(cache) == 12
    torch.testing.assert_close(torch.cat(pieces, 1), full, atol=1e-5, rtol=1e-5)
    cache.clear()                       # the buffers are reused from position 0
    torch.testing.assert_close(model(idx[:, :5], cache), full[:, :5], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("top_k,temperature", [(1, 1.0), (5, 0.8), (None, 1.3)])
@pytest.mark.parametrize("keep", [None, 12, 1])
def test_same_samples_with_and_without_the_cache(top_k, temperature, keep):
    model = tiny_gpt()
    # 40 characters after a 3-character prime overflow the 12-token window several times
    a = sample(model, VOCAB, "abc", 40, temperature=temperature, top_k=top_k, seed=3, keep=keep)
    b = sample(model, VOCAB, "abc", 40, temperature=temperature, top_k=top_k, seed=3, keep=keep, cache=False)
    assert a == b and len(a) == 43


def test_a_prime_longer_than_the_window():
    model = tiny_gpt(block=8)
    prime = "abcdefghij abcdefghij"
    a = sample(model, VOCAB, prime, 10, temperature=0.9, seed=1)
    assert a == sample(model, VOCAB, prime, 10, temperature=0.9, seed=1, cache=False)
    assert a.startswith(prime)


def test_keep_block_size_is_the_classic_sliding_window():
    model = tiny_gpt(block=6)
    text = sample(model, VOCAB, "ab", 15, top_k=1, keep=6)     # greedy
    ids = list(VOCAB.encode("ab"))
    with torch.no_grad():
        for _ in range(15):
            ids.append(int(model(torch.as_tensor(ids[-6:])[None])[0, -1].argmax()))
    assert text == VOCAB.decode(ids)


def test_the_cache_is_the_default_and_reads_one_token_per_step():
    model = tiny_gpt(block=8)
    lengths = []
    model.register_forward_pre_hook(lambda module, args: lengths.append(args[0].shape[1]))
    sample(model, VOCAB, "abc", 10, seed=0)
    # prime; one token per step; when the 8-token window overflows it restarts from the last 6
    assert lengths == [3, 1, 1, 1, 1, 1, 6, 1, 1, 6]     # (and again 3 steps later)
    lengths.clear()
    sample(model, VOCAB, "abc", 3, seed=0, cache=False)
    assert lengths == [3, 4, 5]


def test_cache_misuse_is_a_clear_error():
    model = tiny_gpt(block=4)
    cache = KVCache(model)
    with torch.no_grad():
        model(torch.zeros(1, 3, dtype=torch.long), cache)
        with pytest.raises(InputError, match="block_size 4"):
            model(torch.zeros(1, 2, dtype=torch.long), cache)
        with pytest.raises(InputError, match="batch size 1"):
            model(torch.zeros(2, 1, dtype=torch.long), KVCache(model))
    with pytest.raises(ConfigError, match="keep"):
        sample(model, VOCAB, "ab", 3, keep=5)
    bert = BERT(len(VOCAB) + 1, 4, 1, 1, 8)
    with pytest.raises(ConfigError, match="both directions"):
        KVCache(bert)
    with pytest.raises(ConfigError, match="cannot generate"):
        sample(bert, VOCAB, "ab", 3)
