"""Training curves as PNG: loss and accuracy per epoch, train vs validation."""

from __future__ import annotations

from pathlib import Path


def plot_history(history: dict, path: str | Path, title: str = "") -> Path:
    """Save loss (left) and accuracy (right, when present) curves per epoch.

    Args:
        history: lists keyed "train_loss", "val_loss", "train_accuracy", "val_accuracy"
            (any subset), optionally "epoch" for the x axis.
        path: the PNG to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    has_acc = any(k in history for k in ("train_accuracy", "val_accuracy"))
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5, 3.6))
    axes = axes if has_acc else [axes]
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for split, colour in (("train", "tab:red"), ("val", "tab:blue")):
            values = history.get(f"{split}_{metric}")
            if values:
                epochs = history.get("epoch") or list(range(1, len(values) + 1))
                ax.plot(epochs[: len(values)], values, color=colour, marker=".", label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
