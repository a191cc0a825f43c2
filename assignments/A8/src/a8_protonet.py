"""A8 part 2: prototypical networks (Snell et al. 2017), learning from five examples per class.

An N-way K-shot episode holds a support set (K labelled images of each of N classes) and a
query set (more images of the same classes). A network f embeds every image; the prototype of
class c is the mean embedding of its support images,

    c_k = mean_{i: y_i = k} f(x_i)                       (N, D)

and a query is classified by a softmax over its negative squared Euclidean distances to the
prototypes, p(y = k | x) = softmax_k(-||f(x) - c_k||^2). Meta-training minimises the
cross-entropy of the query labels over many episodes drawn from the training classes; the
test episodes come from classes the network never saw. Here: MNIST digits 0-4 for training,
5-9 for testing.

    python a8_protonet.py                     # 5-way 5-shot, a few minutes on a laptop CPU
    python a8_protonet.py --episodes 200      # quicker, a little less accurate

prints the test accuracy with its 95 % confidence interval over the test episodes.
Check your work with `dlcc course test A8`.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

import util


def prototypes(embeddings: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """Mean embedding per class: embeddings (S, D), labels (S,) int64 in 0 ... n_way-1 -> (n_way, D).
    Do not assume the support set is sorted by class."""
    # === BEGIN SOLUTION A8.6 ===
    # HINT: one-hot labels (S, N) give sums by class as a matrix product
    one_hot = F.one_hot(labels, n_way).to(embeddings.dtype)
    protos = one_hot.T @ embeddings / one_hot.sum(dim=0)[:, None]
    # === END SOLUTION ===
    return protos


def squared_distances(queries: torch.Tensor, protos: torch.Tensor) -> torch.Tensor:
    """||q_i - c_k||^2 for queries (Q, D) and prototypes (N, D) -> (Q, N)."""
    # === BEGIN SOLUTION A8.6 ===
    dists = ((queries[:, None, :] - protos[None, :, :]) ** 2).sum(dim=-1)
    # === END SOLUTION ===
    return dists


def protonet_loss(query_embeddings: torch.Tensor, query_labels: torch.Tensor, protos: torch.Tensor):
    """(loss, accuracy) of one episode: the mean cross-entropy of softmax(-distances) over the
    queries (a scalar tensor that back-propagates into the embeddings and prototypes), and the
    share of queries whose nearest prototype is their class (a Python float)."""
    # === BEGIN SOLUTION A8.7 ===
    logits = -squared_distances(query_embeddings, protos)
    loss = F.cross_entropy(logits, query_labels)
    accuracy = (logits.argmax(dim=1) == query_labels).float().mean().item()
    # === END SOLUTION ===
    return loss, accuracy


def episode_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, episode: dict, n_way: int):
    """One meta-training step on an episode (a dict from util.sample_episode: "support",
    "support_labels", "query", "query_labels"): embed support and query images, build the
    prototypes, compute the loss, and take one optimizer step. Returns (loss, accuracy) as floats."""
    model.train()
    # === BEGIN SOLUTION A8.8 ===
    # HINT: embed support and query in one forward pass (torch.cat), so BatchNorm sees both
    n_support = len(episode["support"])
    z = model(torch.cat([episode["support"], episode["query"]]))
    protos = prototypes(z[:n_support], episode["support_labels"], n_way)
    loss, accuracy = protonet_loss(z[n_support:], episode["query_labels"], protos)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    # === END SOLUTION ===
    return float(loss.item()), float(accuracy)


@torch.no_grad()
def evaluate(model, x, y, classes, n_way=5, k_shot=5, n_query=15, episodes=200, seed=1):
    """Mean episode accuracy and its 95 % confidence half-width on episodes from `classes`."""
    model.eval()
    rng = np.random.default_rng(seed)
    accuracies = []
    for _ in range(episodes):
        ep = util.sample_episode(x, y, classes, n_way, k_shot, n_query, rng)
        z = model(torch.cat([ep["support"], ep["query"]]))
        n_support = len(ep["support"])
        _, acc = protonet_loss(z[n_support:], ep["query_labels"], prototypes(z[:n_support], ep["support_labels"], n_way))
        accuracies.append(acc)
    return util.mean_and_ci95(accuracies)


def train(args) -> tuple[torch.nn.Module, dict]:
    """Meta-train on digits 0-4, test on 5-9; returns the model and a history dict."""
    util.set_seed(args.seed)
    x_train, y_train = util.load_digits("train", range(5), args.per_class)
    x_test, y_test = util.load_digits("test", range(5, 10), args.per_class)
    model = util.ConvEmbedding(args.channels)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    history = {"loss": [], "accuracy": []}
    for _ in range(args.episodes):
        ep = util.sample_episode(x_train, y_train, range(5), args.n_way, args.k_shot, args.n_query, rng)
        loss, acc = episode_step(model, optimizer, ep, args.n_way)
        history["loss"].append(loss)
        history["accuracy"].append(acc)
    history["test_accuracy"], history["test_ci95"] = evaluate(
        model, x_test, y_test, range(5, 10), args.n_way, args.k_shot, args.n_query, args.test_episodes, args.seed + 1)
    return model, history


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="A8: prototypical networks, MNIST 0-4 -> 5-9")
    parser.add_argument("--episodes", type=int, default=600, help="meta-training episodes")
    parser.add_argument("--test_episodes", type=int, default=1000)
    parser.add_argument("--n_way", type=int, default=5)
    parser.add_argument("--k_shot", type=int, default=5)
    parser.add_argument("--n_query", type=int, default=15)
    parser.add_argument("--per_class", type=int, default=500, help="images per digit loaded")
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    _, history = train(args)
    print(f"last 50 training episodes: loss {np.mean(history['loss'][-50:]):.3f}, "
          f"accuracy {np.mean(history['accuracy'][-50:]):.3f}")
    print(f"{args.n_way}-way {args.k_shot}-shot on unseen digits 5-9: accuracy "
          f"{history['test_accuracy']:.3f} +- {history['test_ci95']:.3f} (95 % CI, {args.test_episodes} episodes)")
    util.plot_curves(history, util.RESULT_DIR / "protonet_training.png")


if __name__ == "__main__":
    main()
