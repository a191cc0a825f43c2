"""Weights & Biases tracker, offline by default: no account, no login prompt, no network.

The run is written to `RUN_DIR/wandb/offline-run-<time>-<id>/` (a `.wandb` file with the
history, config and summary, and `files/media/` with the figures). To publish it later:
`wandb sync RUN_DIR/wandb/offline-run-*` (that step needs an account).

Online logging happens only when you set `WANDB_MODE=online` yourself (and are logged in);
any other value, or none, means offline. The project is `WANDB_PROJECT` or "dlcc".
"""

from __future__ import annotations

import os
from pathlib import Path

from dlcc.track.base import Tracker, flatten_params, param_text, scalars


def _settings(wandb, **wanted):
    """A `wandb.Settings` with the options this wandb version knows (names move between releases)."""
    known = getattr(wandb.Settings, "model_fields", None)
    if known is not None:
        wanted = {k: v for k, v in wanted.items() if k in known}
    return wandb.Settings(**wanted)


class WandbTracker(Tracker):
    kind = "wandb"

    def __init__(self, run_dir: str | Path, run_name: str = "run"):
        import wandb

        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        mode = "online" if os.environ.get("WANDB_MODE", "").lower() == "online" else "offline"
        self.mode = mode
        settings = _settings(wandb, silent=True, console="off", x_disable_stats=True,
                             disable_git=True, save_code=False, reinit="create_new")
        self._wandb = wandb
        self.run = wandb.init(mode=mode, dir=str(self.run_dir), name=run_name,
                              project=os.environ.get("WANDB_PROJECT", "dlcc"), settings=settings)
        self._last_step = -1
        self._closed = False

    def _log_params(self, params):
        flat = {k: param_text(v) for k, v in flatten_params(params).items()}
        self.run.config.update(flat, allow_val_change=True)

    def _log(self, payload: dict, step: int) -> None:
        # wandb drops rows whose step goes backwards; keep such rows, with the step as a value.
        if step >= self._last_step:
            self._last_step = step
            self.run.log(payload, step=int(step))
        else:
            self.run.log({**payload, "trainer/step": int(step)})

    def log_metrics(self, metrics, step):
        values = scalars(metrics)
        if values:
            self._log(values, int(step))

    def log_figure(self, name, figure_or_png_path, step):
        source = str(figure_or_png_path) if isinstance(figure_or_png_path, Path) else figure_or_png_path
        self._log({name: self._wandb.Image(source)}, int(step))

    def close(self):
        if not self._closed:
            self._closed = True
            self.run.finish()
            # Seen with wandb 0.31 offline: finish() can return before the wandb-core service
            # has written the .wandb file (a reader then finds only its 7-byte header). Shutting
            # the service down waits for the write. Only when no other wandb run is active here.
            if getattr(self._wandb, "run", None) is None and hasattr(self._wandb, "teardown"):
                self._wandb.teardown()

    @property
    def offline_dir(self) -> Path | None:
        """The `offline-run-*` directory of this run (None when online)."""
        directory = getattr(self.run, "dir", None)  # .../offline-run-*/files
        return Path(directory).parent if directory else None
