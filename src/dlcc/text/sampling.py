"""Generate text from a character model, starting from a prime string.

Works with recurrent models (`CharRNN`, `recurrent = True`: the prime is read once, then one
character per step with the carried hidden state) and with `GPT` (the context is the last
`block_size` characters). Each step divides the logits by `temperature`, keeps the `top_k`
most likely characters (None = all), and draws from the softmax.
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


@torch.no_grad()
def sample(model: nn.Module, vocab: CharVocab, prime: str, length: int, temperature: float = 1.0,
           top_k: int | None = None, seed: int = 0, unknown: str = "error") -> str:
    """Return `prime` followed by `length` generated characters.

    Args:
        model: a `CharRNN`, a `CarryHidden` around one, or a `GPT`, trained with `vocab`.
        prime: the starting text; characters outside the vocabulary raise an `InputError`
            naming them, or are left out with `unknown="drop"`.
        temperature: > 0; below 1 is more conservative, above 1 more adventurous.
        top_k: sample only among the k most likely characters (course: 5); None = all.
        seed: seeds the sampler's own generator (the global RNG is not touched).
    """
    if temperature <= 0:
        raise ConfigError(f"temperature must be > 0; got {temperature}", fix="e.g. --set sample.temperature=0.8")
    if top_k is not None and top_k < 1:
        raise ConfigError(f"top_k must be >= 1 (or null for all characters); got {top_k}",
                          fix="e.g. --set sample.top_k=5")
    if length < 0:
        raise ConfigError(f"sample length must be >= 0; got {length}")
    ids = vocab.encode(prime, unknown=unknown)
    if len(ids) == 0:
        raise InputError(f"the prime text {prime!r} has no character the model knows",
                         fix="start from text in the training corpus, e.g. --set sample.prime='The '")
    if isinstance(model, CarryHidden):
        model = model.model
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
            context = torch.as_tensor(ids, device=device)[None]
            for _ in range(length):
                logits = model(context[:, -model.block_size:])
                nxt = _next_id(logits[0, -1], temperature, top_k, generator)
                out.append(int(nxt))
                context = torch.cat([context, nxt.view(1, 1)], dim=1)
    finally:
        model.train(was_training)
    return vocab.decode(out)
