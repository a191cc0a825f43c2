"""BERT's masking: the 15 % / 80-10-10 proportions, and a loss that sees the selected positions only."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcc.errors import ConfigError
from dlcc.text import IGNORE, MaskedWindows, mask_tokens, masked_accuracy, masked_lm_loss

V, MASK = 50, 50          # 50 text tokens; [MASK] is id 50


def within(observed: float, p: float, n: int, sigmas: float = 5.0) -> bool:
    """Is a binomial share `observed` of n trials within `sigmas` standard errors of p?"""
    return abs(observed - p) <= sigmas * np.sqrt(p * (1 - p) / n)


def test_proportions_are_bert_s_15_80_10_10():
    ids = torch.randint(0, V, (200, 500), generator=torch.Generator().manual_seed(0))
    inputs, targets = mask_tokens(ids, MASK, V, torch.Generator().manual_seed(1))
    chosen = targets != IGNORE
    n, k = ids.numel(), int(chosen.sum())
    assert within(k / n, 0.15, n)
    masked = (inputs == MASK) & chosen
    changed = (inputs != ids) & (inputs != MASK) & chosen         # a random token other than the original
    kept = (inputs == ids) & chosen                               # unchanged, or a random draw of the original
    assert within(int(masked.sum()) / k, 0.8, k)
    assert within(int(changed.sum()) / k, 0.1 * (V - 1) / V, k)
    assert within(int(kept.sum()) / k, 0.1 + 0.1 / V, k)
    # random replacements are text tokens, roughly uniform, never [MASK]
    drawn = inputs[changed]
    assert int(drawn.max()) < V and len(torch.unique(drawn)) == V


def test_targets_hold_the_original_at_selected_positions_only():
    ids = torch.randint(0, V, (8, 64), generator=torch.Generator().manual_seed(2))
    inputs, targets = mask_tokens(ids, MASK, V, torch.Generator().manual_seed(3))
    chosen = targets != IGNORE
    assert torch.equal(targets[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])             # unselected positions are untouched
    again = mask_tokens(ids, MASK, V, torch.Generator().manual_seed(3))
    assert torch.equal(again[0], inputs) and torch.equal(again[1], targets)


def test_the_loss_and_accuracy_ignore_unselected_positions():
    torch.manual_seed(0)
    targets = torch.full((2, 6), IGNORE)
    targets[0, 1], targets[1, 4] = 3, 7
    logits = torch.randn(2, 6, V + 1, requires_grad=True)
    loss = masked_lm_loss(logits, targets)
    expected = F.cross_entropy(logits[[0, 1], [1, 4]], torch.tensor([3, 7]))
    torch.testing.assert_close(loss, expected)
    loss.backward()
    selected = targets != IGNORE
    assert logits.grad[~selected].abs().max() == 0 and logits.grad[selected].abs().max() > 0
    scrambled = logits.detach().clone()
    scrambled[~selected] = torch.randn(int((~selected).sum()), V + 1) * 100
    torch.testing.assert_close(masked_lm_loss(scrambled, targets), loss.detach())
    right = logits.detach().clone()
    right[0, 1, 3] = right[1, 4, 7] = 1e3
    assert masked_accuracy(right, targets) == 1.0
    right[1, 4, 7] = -1e3
    assert masked_accuracy(right, targets) == 0.5


def test_a_batch_without_selected_positions_gives_zero_not_nan():
    targets = torch.full((2, 3), IGNORE)
    logits = torch.randn(2, 3, V)
    assert masked_lm_loss(logits, targets) == 0 and masked_accuracy(logits, targets) == 0


def test_masked_windows_are_fixed_with_reseed():
    ids = np.random.default_rng(0).integers(0, V, 2000)
    fixed = MaskedWindows(ids, 4, 16, 3, MASK, V, seed=5, reseed=True, what="validation")
    first, second = list(fixed), list(fixed)
    assert len(first) == 3 and all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, second))
    fresh = MaskedWindows(ids, 4, 16, 3, MASK, V, seed=5)
    a, b = list(fresh), list(fresh)
    assert not torch.equal(a[0][1], b[0][1])
    assert a[0][0].shape == (4, 16) and a[0][1].dtype == torch.int64


@pytest.mark.parametrize("select,mask,random", [(0, 0.8, 0.1), (1.5, 0.8, 0.1), (0.15, 0.9, 0.2), (0.15, -0.1, 0.1)])
def test_bad_fractions_are_refused(select, mask, random):
    with pytest.raises(ConfigError, match="masking"):
        mask_tokens(torch.zeros(2, 4, dtype=torch.long), MASK, V, select=select, mask=mask, random=random)
