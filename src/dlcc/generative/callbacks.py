"""`SampleSnapshots`: a training callback that draws the generator's samples at every
evaluation (the course saved a grid twice per epoch), always from the same noise, so the
files show one set of samples improving: `samples/step_000500.png`, ...

Sampling uses its own seeded generator and puts the networks back in training mode after, so
it changes neither the training's random numbers nor its result.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from dlcc.train.callbacks import Callback


class SampleSnapshots(Callback):
    """Calls `draw(path, noise_generator)` at every evaluation, with a generator reseeded to
    `seed` each time; `draw` samples and writes the figure at `path`.

    Args:
        draw: e.g. `lambda path, g: save_grid(G(torch.randn(100, 64, generator=g)), path)`.
        directory: where the files go (`samples/` of the run).
        model: put in eval mode while drawing, then back in training mode.
    """

    def __init__(self, draw: Callable[[Path, torch.Generator], object], directory: str | Path,
                 model: torch.nn.Module, seed: int = 1234, suffix: str = ".png"):
        self.draw, self.directory, self.model = draw, Path(directory), model
        self.seed, self.suffix = seed, suffix
        self.paths: list[Path] = []

    def on_eval(self, trainer, metrics) -> None:
        path = self.directory / f"step_{trainer.global_step:06d}{self.suffix}"
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad(), trainer.paused():
                self.draw(path, torch.Generator().manual_seed(self.seed))
        finally:
            self.model.train(was_training)
        self.paths.append(path)
