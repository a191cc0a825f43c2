"""BERT's masked-language-model objective: hide some tokens, train the encoder to restore them.

    inputs, targets = mask_tokens(ids, mask_id=len(vocab), n_tokens=len(vocab), generator=g)
    loss = masked_lm_loss(bert(inputs), targets)          # only the selected positions count

Of the positions of `ids`, each is *selected* independently with probability `select`
(BERT: 15 %). A selected position is replaced by the `[MASK]` token with probability `mask`
(80 %), by a token drawn uniformly from the vocabulary with probability `random` (10 %; it
may draw the original token), and left unchanged otherwise (10 %). Why not always `[MASK]`:
`[MASK]` never appears when the encoder is used on real text, so the random and unchanged
cases make it build a useful representation of every position, not only of masked ones.

`targets` holds the original token at the selected positions and `IGNORE` (-100, PyTorch's
`ignore_index`) elsewhere, so the loss and the accuracy see the selected positions only,
whatever the encoder predicts at the others.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from dlcc.errors import ConfigError
from dlcc.text.batches import RandomWindows

IGNORE = -100


def check_fractions(select: float, mask: float, random: float) -> None:
    """Refuse fractions that are not probabilities (ConfigError naming the setting)."""
    if not 0 < select <= 1:
        raise ConfigError(f"masking.select must be in (0, 1]; got {select}", fix="BERT's value: --set masking.select=0.15")
    if mask < 0 or random < 0 or mask + random > 1:
        raise ConfigError(f"masking.mask={mask} and masking.random={random} must be >= 0 and add up to at most 1 "
                          "(the rest of the selected tokens stay unchanged)",
                          fix="BERT's values: --set masking.mask=0.8 masking.random=0.1")


def mask_tokens(ids: torch.Tensor, mask_id: int, n_tokens: int, generator: torch.Generator | None = None,
                select: float = 0.15, mask: float = 0.8, random: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt `ids` for masked-LM training.

    Args:
        ids: token ids `[...]` int64 (e.g. `[B, T]`), all in [0, n_tokens).
        mask_id: the `[MASK]` token's id (not a token of the text).
        n_tokens: random replacements are drawn from [0, n_tokens) - the text's tokens.
        generator: the random source (CPU); None uses the global one.
        select, mask, random: the fractions above (BERT: 0.15, 0.8, 0.1).

    Returns: inputs `[...]` int64 (ids with the selected positions corrupted) and targets
    `[...]` int64 (the original id where selected, `IGNORE` elsewhere).
    """
    check_fractions(select, mask, random)
    device = ids.device
    ids = ids.cpu()
    chosen = torch.rand(ids.shape, generator=generator) < select
    kind = torch.rand(ids.shape, generator=generator)       # one draw splits the selected three ways
    to_mask = chosen & (kind < mask)
    to_random = chosen & (kind >= mask) & (kind < mask + random)
    replacement = torch.randint(n_tokens, ids.shape, generator=generator)
    inputs = torch.where(to_mask, torch.full_like(ids, mask_id), ids)
    inputs = torch.where(to_random, replacement, inputs)
    targets = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    return inputs.to(device), targets.to(device)


def masked_lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the selected positions. logits `[B, T, V]`, targets `[B, T]`.

    A batch without a selected position gives 0 (not NaN), so it changes nothing."""
    total = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1),
                            ignore_index=IGNORE, reduction="sum")
    return total / (targets != IGNORE).sum().clamp(min=1)


def masked_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of the selected positions whose arg-max is the original token (0 when none)."""
    chosen = targets != IGNORE
    right = (logits.argmax(dim=-1) == targets) & chosen
    return right.sum().float() / chosen.sum().clamp(min=1)


class MaskedWindows:
    """`steps` batches of random text windows, corrupted for masked-LM training.

    Yields inputs, targets `[B, T]` int64 (see `mask_tokens`). With `reseed`, every pass gives
    the same windows *and* the same corruption (a fixed validation set); otherwise each pass
    draws new ones.
    """

    def __init__(self, ids: np.ndarray, batch_size: int, block_size: int, steps: int, mask_id: int,
                 n_tokens: int, seed: int = 0, reseed: bool = False, what: str = "training",
                 select: float = 0.15, mask: float = 0.8, random: float = 0.1):
        check_fractions(select, mask, random)
        self.windows = RandomWindows(ids, batch_size, block_size, steps, seed=seed, reseed=reseed, what=what)
        self.mask_id, self.n_tokens, self.seed, self.reseed = mask_id, n_tokens, seed, reseed
        self.fractions = (select, mask, random)
        self.generator = torch.Generator().manual_seed(seed + 7919)   # apart from the windows' own stream

    def __len__(self) -> int:
        return len(self.windows)

    def __iter__(self):
        if self.reseed:
            self.generator.manual_seed(self.seed + 7919)
        for x, _ in self.windows:
            yield mask_tokens(x, self.mask_id, self.n_tokens, self.generator, *self.fractions)


@torch.no_grad()
def masked_text_scores(model, ids: np.ndarray, seq_len: int, n_tokens: int, device, seed: int = 0,
                       batch_size: int = 64, select: float = 0.15, mask: float = 0.8, random: float = 0.1,
                       guess: int | None = None) -> dict:
    """Masked-LM loss and accuracy of `model` over a whole text, in non-overlapping windows.

    The corruption is drawn with `seed`, so two models (or two runs) are scored on the same
    selected positions. With `guess` (e.g. the most frequent training token), also the accuracy
    of always answering it there: the baseline an encoder must beat.

    Returns {"loss", "accuracy", "selected", and with guess "guess_accuracy"}.
    """
    n = len(ids) // seq_len
    if n == 0:
        raise ConfigError(f"the text ({len(ids)} tokens) is shorter than one window of {seq_len}",
                          fix="use a longer text or a smaller data.seq_len")
    x = torch.as_tensor(np.ascontiguousarray(ids[: n * seq_len]), dtype=torch.long).view(n, seq_len)
    inputs, targets = mask_tokens(x, model.mask_id, n_tokens, torch.Generator().manual_seed(seed),
                                  select, mask, random)
    was_training = model.training
    model.eval()
    loss, right, guessed = 0.0, 0, 0
    try:
        for i in range(0, n, batch_size):
            logits = model(inputs[i:i + batch_size].to(device)).float()
            t = targets[i:i + batch_size].to(device)
            chosen = t != IGNORE
            loss += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1), ignore_index=IGNORE,
                                    reduction="sum").item()
            right += int(((logits.argmax(-1) == t) & chosen).sum())
            if guess is not None:
                guessed += int(((t == guess) & chosen).sum())
    finally:
        model.train(was_training)
    selected = int((targets != IGNORE).sum())
    out = {"loss": loss / max(selected, 1), "accuracy": right / max(selected, 1), "selected": selected}
    if guess is not None:
        out["guess_accuracy"] = guessed / max(selected, 1)
    return out
