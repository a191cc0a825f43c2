"""The live-training page's computation: a small recipe run whose progress a page can draw.

    run_dir, metrics = train_live("mnist1d-mlp", {"train.epochs": 5}, Path("runs"),
                                  on_row=lambda row, done: ..., on_step=lambda step, loss: ...)

It is an ordinary `dlcc run` (config.yaml, model.pt, metrics.json in a new folder
`<runs>/<recipe>-live-<time>`), so the model it trains appears in the app's model chooser
afterwards. A `LiveProgress` callback (dlcc.train's callback contract) passes each history
row - epoch, train_loss, val_loss, val_accuracy, ... - and each step's loss to the page as
they happen; the page itself never touches the training loop.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path

from dlcc.errors import ConfigError
from dlcc.train.callbacks import Callback

# Recipes small enough to train while a user watches, with settings that finish in seconds.
LIVE_RECIPES = {
    "mnist1d-mlp": "MLP on MNIST-1D (40-sample signals, 10 classes)",
    "mnist1d-cnn": "1-D CNN on MNIST-1D",
}
MAX_EPOCHS = 50


class LiveProgress(Callback):
    """Calls `on_row(row, fraction_done)` after every evaluation and `on_step(step, loss)` every
    `every` optimizer steps."""

    def __init__(self, on_row: Callable[[dict, float], None] | None = None,
                 on_step: Callable[[int, float], None] | None = None, every: int = 10):
        self.on_row, self.on_step, self.every = on_row, on_step, max(1, int(every))

    def on_batch_end(self, trainer, step: int, loss, lr: float) -> None:
        if self.on_step is not None and step % self.every == 0:
            self.on_step(int(step), float(loss))

    def on_eval(self, trainer, metrics: dict) -> None:
        if self.on_row is not None:
            done = trainer.epoch / trainer.epochs if trainer.epochs else 0.0
            self.on_row(dict(metrics), min(1.0, float(done)))


def live_settings(recipe: str, epochs: int, lr: float | None = None) -> list[str]:
    """The `--set` overrides of a live run; a `ConfigError` for a recipe or value out of range."""
    if recipe not in LIVE_RECIPES:
        raise ConfigError(f"{recipe!r} is not a recipe the app trains live",
                          fix=f"choose one of {', '.join(LIVE_RECIPES)}")
    if not 1 <= int(epochs) <= MAX_EPOCHS:
        raise ConfigError(f"epochs {epochs} is outside 1..{MAX_EPOCHS}", fix="choose fewer epochs")
    settings = [f"train.epochs={int(epochs)}"]
    if lr is not None:
        settings.append(f"train.lr={float(lr)}")
    return settings


def train_live(recipe: str, settings: list[str], runs: Path, on_row=None, on_step=None,
               log: Callable[[str], None] = lambda line: None) -> tuple[Path, dict]:
    """Run `recipe` with `settings` into a new folder under `runs`; returns (run dir, metrics)."""
    from dlcc.recipes.registry import get_recipe
    from dlcc.recipes.runner import execute, new_run_dir
    from dlcc.utils.io import write_json

    spec = get_recipe(recipe)
    cfg = spec.make_config(settings)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    runs.mkdir(parents=True, exist_ok=True)
    out_dir, _ = new_run_dir(spec, cfg, runs / f"{recipe}-live-{stamp}",
                             {"preset": None, "overrides": settings, "device": "cpu", "tracker": "none",
                              "engine": "dlcc", "started_by": "dlcc app"})
    metrics = execute(spec, cfg, out_dir, device="cpu", progress=False, log=log,
                      callbacks=[LiveProgress(on_row, on_step)])
    write_json(out_dir / "metrics.json", metrics)
    return out_dir, metrics
