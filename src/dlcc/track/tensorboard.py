"""TensorBoard tracker (the default): event files in `RUN_DIR/tensorboard/`.

View with `tensorboard --logdir runs/` (every run directory below becomes one run).

- scalars: `add_scalar(tag, value, global_step)`;
- hyper-parameters: a text table when they are logged (readable at once), and the HParams
  dashboard summary when the tracker closes, with the last value of every scalar as its
  metrics (the dashboard needs the metric names, which are only known at the end);
- figures: `add_figure` for matplotlib figures, `add_image` (HWC, uint8) for PNG files.
"""

from __future__ import annotations

from pathlib import Path

from dlcc.track.base import Tracker, flatten_params, param_text, png_array, scalars


class TensorBoardTracker(Tracker):
    kind = "tb"

    def __init__(self, run_dir: str | Path, run_name: str = "run"):
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = Path(run_dir) / "tensorboard"
        self.writer = SummaryWriter(log_dir=str(self.log_dir))
        self._params: dict = {}
        self._last: dict[str, float] = {}
        self._closed = False

    def _log_params(self, params):
        flat = {k: param_text(v) for k, v in flatten_params(params).items()}
        self._params.update(flat)
        rows = "\n".join(f"| {k} | {v} |" for k, v in sorted(flat.items()))
        self.writer.add_text("hparams", "| parameter | value |\n|---|---|\n" + rows, 0)

    def log_metrics(self, metrics, step):
        for tag, value in scalars(metrics).items():
            self.writer.add_scalar(tag, value, int(step))
            self._last[tag] = value

    def log_figure(self, name, figure_or_png_path, step):
        if isinstance(figure_or_png_path, (str, Path)):
            self.writer.add_image(name, png_array(figure_or_png_path), int(step), dataformats="HWC")
        else:
            self.writer.add_figure(name, figure_or_png_path, int(step), close=False)

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self._params:
            self._write_hparams()
        self.writer.flush()
        self.writer.close()

    def _write_hparams(self) -> None:
        from torch.utils.tensorboard.summary import hparams

        # The HParams plugin accepts only bool/int/float/str values; param_text made sure.
        metric_names = {f"{tag}": value for tag, value in self._last.items()}
        exp, ssi, sei = hparams(self._params, metric_names)
        writer = self.writer._get_file_writer()  # why: add_hparams() would open a second run dir
        for summary in (exp, ssi, sei):
            writer.add_summary(summary)
