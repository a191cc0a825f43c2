"""Generate text from a character model, starting from a prime string.

Works with recurrent models (`CharRNN`, `recurrent = True`: the prime is read once, then one
character per step with the carried hidden state) and with `GPT`. Each step divides the
logits by `temperature`, keeps the `top_k` most likely characters (None = all), and draws
from the softmax.

A GPT's context is a window of at most `block_size` tokens. When a new token would overflow
it, the window restarts from the last `keep` tokens (default: three quarters of the block;
`keep = block_size` is the classic sliding window that drops one token per step). With the KV cache
(`cache=True`, the default) the window is read once when it (re)starts and then one new
token per step; without it, every step re-reads the whole window. Both follow the same
window rule, so they give the same samples for the same seed (`tests/sequences/test_kv_cache.py`).
Why restart instead of sliding the cache: the learned positions make a token's keys depend on
its position in the window and on every token before it, so when the window slides by one,
every cached key is stale. With `keep = block_size` the cache is therefore re-read at every
step past the block (exact, but no faster than no cache); a smaller `keep` pays one re-read
of `keep` tokens every `block_size - keep + 1` steps, and each token still sees at least
`keep` tokens of context.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcc.errors import ConfigError, InputError
from dlcc.text.tbptt import CarryHidden
from dlcc.text.vocab import CharVocab


def _next_id(logits: torch.Tensor, temperature: float, top_k: int | None,
             generator: torch.Generator) -> torch.Tensor:
    """logits `[V]` -> one sampled id (0-dim int64 tensor)."""
    logits = logits.float() / temperature
    if top_k is not None and top_k < logits.numel():
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[0]


def check_settings(temperature: float, top_k: int | None, length: int) -> None:
    """Refuse sampling settings that mean nothing (ConfigError naming the setting)."""
    if temperature <= 0:
        raise ConfigError(f"temperature must be > 0; got {temperature}", fix="e.g. --set sample.temperature=0.8")
    if top_k is not None and top_k < 1:
        raise ConfigError(f"top_k must be >= 1 (or null for all characters); got {top_k}",
                          fix="e.g. --set sample.top_k=5")
    if length < 0:
        raise ConfigError(f"sample length must be >= 0; got {length}")


@torch.inference_mode()
def sample(model: nn.Module, vocab: CharVocab, prime: str, length: int, temperature: float = 1.0,
           top_k: int | None = None, seed: int = 0, unknown: str = "error", cache: bool = True,
           keep: int | None = None) -> str:
    """Return `prime` followed by `length` generated characters.

    Args:
        model: a `CharRNN`, a `CarryHidden` around one, or a `GPT`, trained with `vocab`.
        prime: the starting text; characters outside the vocabulary raise an `InputError`
            naming them, or are left out with `unknown="drop"`.
        temperature: > 0; below 1 is more conservative, above 1 more adventurous.
        top_k: sample only among the k most likely characters (course: 5); None = all.
        seed: seeds the sampler's own generator (the global RNG is not touched).
        cache: GPT only: decode with a `KVCache` (same samples, much faster); False re-reads
            the window at every step.
        keep: GPT only: tokens kept when the context window is full (1 .. block_size; None:
            3 * block_size // 4). See the module docstring.
    """
    check_settings(temperature, top_k, length)
    ids = vocab.encode(prime, unknown=unknown)
    if len(ids) == 0:
        raise InputError(f"the prime text {prime!r} has no character the model knows",
                         fix="start from text in the training corpus, e.g. --set sample.prime='The '")
    if isinstance(model, CarryHidden):
        model = model.model
    if not getattr(model, "causal", True):
        raise ConfigError(f"{type(model).__name__} reads in both directions, so it cannot generate text left to right",
                          fix="sample from a GPT or a char-RNN")
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    was_training = model.training
    model.eval()
    out = list(map(int, ids))
    try:
        if getattr(model, "recurrent", False):
            x = torch.as_tensor(ids, device=device)[None]
            logits, hidden = model(x)
            for _ in range(length):
                nxt = _next_id(logits[0, -1], temperature, top_k, generator)
                out.append(int(nxt))
                logits, hidden = model(nxt.view(1, 1), hidden)
        else:
            step = _gpt_steps(model, out, device, cache, _keep(model, keep))
            for _ in range(length):
                out.append(int(_next_id(next(step), temperature, top_k, generator)))
    finally:
        model.train(was_training)
    return vocab.decode(out)


def _keep(model: nn.Module, keep: int | None) -> int:
    block = model.block_size
    if keep is None:     # every token sees >= 3/4 of the block; a re-read every block/4 steps
        return max(1, 3 * block // 4)
    if not 1 <= keep <= block:
        raise ConfigError(f"keep must be between 1 and the model's block_size {block}; got {keep}",
                          fix=f"e.g. keep={3 * block // 4}, or keep={block} for a sliding window")
    return keep


def _gpt_steps(model: nn.Module, out: list[int], device, cache: bool, keep: int):
    """Yield the next-token logits `[V]` for `out` (the caller appends each drawn token to it).

    The window is out[start:], at most block_size tokens; when the newest token overflows it,
    it restarts from the last `keep`. With a cache only the unread tokens (`fresh`) go in.
    """
    from dlcc.models.transformer import KVCache

    block = model.block_size
    start = max(0, len(out) - block)
    kv = KVCache(model) if cache else None
    fresh = out[start:]                       # tokens of the window the cache has not read
    while True:
        if kv is None:
            logits = model(torch.tensor(out[start:], device=device)[None])
        else:
            logits = model(torch.tensor(fresh, device=device)[None], kv)
        n = len(out)
        yield logits[0, -1]
        if len(out) - start > block:          # the new token overflows the window: restart it
            start = len(out) - keep
            fresh = out[start:]
            if kv is not None:
                kv.clear()
        else:
            fresh = out[n:]
