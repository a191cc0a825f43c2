"""Probes for `dlcc course mutate A8` (never released): random float64 inputs for the
functions whose surviving mutants need the equivalence check (dlcc.course.authoring.equivalence)."""

import numpy as np
import torch


def _attention(m, rng):
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 2))
    mask = rng.random((2, 3, 5)) > 0.3
    out, cache = m.attention_forward(q, k, v, mask)
    return [out, cache["weights"], *m.attention_backward(rng.normal(size=out.shape), cache)]


def _protonet(m, rng):
    emb, labels = torch.as_tensor(rng.normal(size=(6, 3))), torch.as_tensor(rng.permutation([0, 0, 1, 1, 2, 2]))
    protos = m.prototypes(emb, labels, 3)
    loss, acc = m.protonet_loss(torch.as_tensor(rng.normal(size=(4, 3))), torch.as_tensor([0, 1, 2, 0]), protos)
    return [protos.numpy(), m.squared_distances(emb, protos).numpy(), float(loss), acc]


def _multihead(m, rng):
    e, heads, length = 6, 2, 4
    params = {f"W{n}": rng.normal(size=(e, e)) / e ** 0.5 for n in "qkvo"}
    params.update({f"b{n}": rng.normal(size=e) for n in "qkvo"})
    mask = None if rng.random() < 0.5 else np.tril(np.ones((length, length), dtype=bool))
    y, weights = m.multihead_attention_forward(rng.normal(size=(2, length, e)), params, heads, mask)
    return [y, weights]


PROBES = {"a8_attention.multihead_attention_forward": _multihead,
          "a8_attention.attention_forward": _attention, "a8_attention.attention_backward": _attention,
          "a8_protonet.prototypes": _protonet, "a8_protonet.squared_distances": _protonet,
          "a8_protonet.protonet_loss": _protonet}
