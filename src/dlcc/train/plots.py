"""Training curves: loss and accuracy per epoch, train vs validation, as one PNG."""

from __future__ import annotations

from pathlib import Path


def plot_history(history: list[dict], path: str | Path, title: str = "") -> Path:
    """Save loss (left) and accuracy (right, when present) curves from `Trainer.history`.

    `history` is a list of per-epoch dicts with "epoch", "train_loss", "val_loss",
    "train_accuracy", "val_accuracy" (missing keys are skipped). Returns the PNG path.
    """
    from matplotlib.figure import Figure  # no pyplot: works without a display

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    epochs = [h["epoch"] for h in history]
    panels = [("loss", "loss")]
    if any("train_accuracy" in h or "val_accuracy" in h for h in history):
        panels.append(("accuracy", "accuracy"))
    fig = Figure(figsize=(5 * len(panels), 3.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, label) in zip(axes, panels):
        for split, style in (("train", "-"), ("val", "--")):
            values = [h.get(f"{split}_{key}") for h in history]
            if any(v is not None for v in values):
                ax.plot(epochs, [float("nan") if v is None else v for v in values], style,
                        marker="o", ms=3, label=split)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
