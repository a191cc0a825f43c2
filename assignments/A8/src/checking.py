"""Helpers the tests use to call the PyTorch part (given; you do not need to call them).

The grader runs your code in a separate, sandboxed process and only plain values (numbers,
lists, dicts, NumPy arrays) travel back from it. These functions run beside your code: they
turn arrays into tensors, call your functions, and turn the results back into arrays.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import a8_protonet
import util


def plain(value):
    """Tensors -> NumPy arrays, recursively through tuples, lists and dicts."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def call(function: str, *args, **kwargs):
    """a8_protonet.function(*args) with arrays as tensors (float64 stays float64)."""
    args = [torch.as_tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    return plain(getattr(a8_protonet, function)(*args, **kwargs))


def loss_and_grads(query_embeddings, query_labels, protos) -> dict:
    """protonet_loss and the gradients of the loss w.r.t. the query embeddings and prototypes."""
    q = torch.as_tensor(query_embeddings).clone().requires_grad_(True)
    c = torch.as_tensor(protos).clone().requires_grad_(True)
    loss, accuracy = a8_protonet.protonet_loss(q, torch.as_tensor(query_labels), c)
    grad_q, grad_c = torch.autograd.grad(loss, [q, c])
    return {"loss": float(loss), "accuracy": accuracy, "is_float": isinstance(accuracy, float),
            "grad_queries": plain(grad_q), "grad_protos": plain(grad_c)}


def tiny_episode(seed: int, n_way: int = 3, k_shot: int = 2, n_query: int = 2, shuffle_support: bool = False) -> dict:
    """A random 8 x 8 'image' episode (no data needed); support optionally out of class order."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(n_way, 1, 8, 8, generator=g)
    support_labels = torch.arange(n_way).repeat_interleave(k_shot)
    query_labels = torch.arange(n_way).repeat_interleave(n_query)
    if shuffle_support:
        support_labels = support_labels[torch.randperm(len(support_labels), generator=g)]
    noise = 0.5
    return {"support": centers[support_labels] + noise * torch.randn(len(support_labels), 1, 8, 8, generator=g),
            "query": centers[query_labels] + noise * torch.randn(len(query_labels), 1, 8, 8, generator=g),
            "support_labels": support_labels, "query_labels": query_labels}


def run_steps(seed: int = 0, steps: int = 1, lr: float = 0.05, shuffle_support: bool = False, n_way: int = 3) -> dict:
    """episode_step on the same tiny episode `steps` times, with a small seeded ConvEmbedding and
    SGD; the returned losses and accuracies, and the weights before and after."""
    torch.manual_seed(seed)
    model = util.ConvEmbedding(channels=4, blocks=2)
    before = {k: v.detach().clone().numpy() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    episode = tiny_episode(seed, n_way=n_way, shuffle_support=shuffle_support)
    results = [a8_protonet.episode_step(model, optimizer, episode, n_way) for _ in range(steps)]
    after = {k: v.detach().clone().numpy() for k, v in model.state_dict().items()}
    return {"results": [list(r) for r in results], "types": [type(v).__name__ for v in results[0]],
            "before": before, "after": after, "training": model.training}


def train_on_mnist(episodes: int = 150, test_episodes: int = 200, per_class: int = 100, channels: int = 16,
                   seed: int = 0) -> dict:
    """Meta-train on digits 0-4 with a8_protonet.train (tiny settings) and evaluate 5-way 5-shot on
    5-9; also the same evaluation of the untrained network, as the floor."""
    torch.set_num_threads(1)
    args = argparse.Namespace(episodes=episodes, test_episodes=test_episodes, n_way=5, k_shot=5, n_query=15,
                              per_class=per_class, channels=channels, lr=1e-3, seed=seed)
    untrained = a8_protonet.train(argparse.Namespace(**{**vars(args), "episodes": 0}))[1]
    _, history = a8_protonet.train(args)
    return {"before": untrained["test_accuracy"], "after": history["test_accuracy"],
            "ci95": history["test_ci95"], "train_loss_first": float(np.mean(history["loss"][:20])),
            "train_loss_last": float(np.mean(history["loss"][-20:]))}
