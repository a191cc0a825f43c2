"""`quickstart`: the main job, offline. A NumPy MLP written by hand and a small PyTorch CNN.

Runs `digits-mlp-numpy` (scikit-learn's digits) and `mnist1d-cnn` (MNIST-1D, generated
locally) one after the other in sub-directories, prints a comparison table, and saves one
figure with both runs' validation curves (`quickstart.png`). Needs no download.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from dlcc.config import section, setting, to_dict
from dlcc.recipes.registry import Recipe, RunContext, get_recipe
from dlcc.utils.io import write_json, write_yaml

PARTS = {"numpy": "digits-mlp-numpy", "torch": "mnist1d-cnn"}


@dataclass
class Part:
    epochs: int = setting(10, "training epochs of this part", ge=1)


@dataclass
class Config:
    seed: int = setting(0, "seed of both parts", ge=0)
    numpy: Part = section(Part, "digits-mlp-numpy: the NumPy MLP on scikit-learn's digits", epochs=30)
    torch: Part = section(Part, "mnist1d-cnn: the PyTorch 1-D CNN on MNIST-1D", epochs=15)


def _run_part(key: str, part: Part, ctx: RunContext) -> tuple[dict, dict]:
    recipe = get_recipe(PARTS[key])
    cfg = recipe.make_config([f"train.epochs={part.epochs}"], seed=ctx.seed)
    out = ctx.out_dir / recipe.name
    out.mkdir(parents=True, exist_ok=True)
    write_yaml(out / "config.yaml", {"recipe": recipe.name, "config": to_dict(cfg)})
    ctx.log(f"\n== {recipe.name}: {recipe.summary}")
    metrics = recipe.run(cfg, replace(ctx, out_dir=out, config=to_dict(cfg), name=recipe.name))
    write_json(out / "metrics.json", metrics)
    history_file = out / "history.json"
    history = json.loads(history_file.read_text()) if history_file.exists() else {}
    if isinstance(history, list):  # torch recipes keep one dict per epoch
        history = {k: [row.get(k) for row in history] for k in history[0]} if history else {}
    return metrics, history


def _figure(histories: dict[str, dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, history in histories.items():
        for ax, metric in zip(axes, ("loss", "accuracy")):
            for split, style in (("train", "--"), ("val", "-")):
                values = history.get(f"{split}_{metric}")
                if values:
                    ax.plot(range(1, len(values) + 1), values, style, label=f"{name} {split}")
    for ax, metric in zip(axes, ("loss", "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("dlcc quickstart: NumPy MLP (digits) and PyTorch CNN (MNIST-1D)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(cfg: Config, ctx: RunContext) -> dict:
    results, histories = {}, {}
    for key in PARTS:
        metrics, history = _run_part(key, getattr(cfg, key), ctx)
        results[PARTS[key]] = metrics
        histories[PARTS[key]] = history
    _figure(histories, ctx.out_dir / "quickstart.png")
    ctx.log("\n| run | engine | params | epochs | val acc | test acc | train s |")
    ctx.log("|---|---|---:|---:|---:|---:|---:|")
    for key, name in PARTS.items():
        m = results[name]
        ctx.log(f"| {name} | {key} | {m.get('n_params', 0):,} | {m.get('epochs_run', '-')} | "
                f"{m.get('val_accuracy', float('nan')):.4f} | {m.get('test_accuracy', float('nan')):.4f} | "
                f"{m.get('train_time_s', 0):.2f} |")
    ctx.log(f"\nfigure: {ctx.out_dir / 'quickstart.png'}")
    flat = {f"{key}_{metric}": value for key, name in PARTS.items()
            for metric, value in results[name].items() if isinstance(value, (int, float))}
    flat["test_accuracy"] = min(results[name]["test_accuracy"] for name in PARTS.values())
    return flat


RECIPE = Recipe(
    name="quickstart",
    summary="the main job: NumPy MLP on digits + PyTorch CNN on MNIST-1D, table and plot (offline)",
    data="digits, mnist1d",
    config=Config,
    run=run,
    tags=("embedded",),
    resumable=False,
    lightning=False,
    distributed=False,
)
