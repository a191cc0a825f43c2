"""Character-level text for language models: vocabulary, batches, truncated BPTT, sampling.

    text = load_corpus("embedded")                  # or "tinyshakespeare", or a .txt path
    vocab = CharVocab.from_text(text)
    train_ids, val_ids = split_by_position(vocab.encode(text), val_frac=0.1)
    for x, y in RandomWindows(train_ids, batch_size=12, block_size=64, steps=100): ...
    print(sample(model, vocab, "We the ", length=200, temperature=0.8, top_k=5))   # KV-cached for a GPT
    inputs, targets = mask_tokens(x, mask_id=len(vocab), n_tokens=len(vocab))   # BERT's 15 % / 80-10-10
"""

from dlcc.text.batches import RandomWindows, SequentialWindows, split_by_position
from dlcc.text.corpus import embedded_corpus, load_corpus
from dlcc.text.masking import IGNORE, MaskedWindows, mask_tokens, masked_accuracy, masked_lm_loss
from dlcc.text.sampling import sample
from dlcc.text.tbptt import CarryHidden, detach_hidden
from dlcc.text.vocab import CharVocab

__all__ = ["IGNORE", "CarryHidden", "CharVocab", "MaskedWindows", "RandomWindows", "SequentialWindows",
           "detach_hidden", "embedded_corpus", "load_corpus", "mask_tokens", "masked_accuracy", "masked_lm_loss",
           "sample", "split_by_position"]
