"""Running a lecture's companion: the context a companion script gets, and what it leaves behind.

A companion is a module in `dlcc.lectures.companions` with one function, `run(c: Companion)`.
It computes with dlcc (the NumPy engine, the model zoo, plain torch), and reports through `c`:

    c.say("text")                         # printed, and kept in output.txt
    c.number("condition_number", 50.0, "largest / smallest Hessian eigenvalue")
    c.figure("trajectories", fig, "what the figure shows")   # a matplotlib Figure -> PNG

`c.quick` asks for the small setting (seconds: the site build and CI use it); without it the
companion may use more data or steps (a few minutes at most on a laptop CPU). Either way the
figures and numbers mean the same thing.

A run leaves in its folder: one PNG per figure, `output.txt` (what was printed),
`numbers.json`, and `companion.json` (lecture, setting, figure captions, seconds).
"""

from __future__ import annotations

import importlib
import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dlcc.errors import ConfigError, InputError
from dlcc.lectures.catalog import Lecture
from dlcc.utils.io import atomic_write_text, write_json
from dlcc.utils.rundir import make_run_dir

MARKER = "companion.json"


@dataclass
class Report:
    """What one companion run produced (also written to its folder)."""

    lecture: str
    quick: bool
    out: Path
    figures: dict[str, Path] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)
    output: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0     # CPU time of this process: what the wall time would be when idle

    def to_json(self) -> dict:
        return {"lecture": self.lecture, "quick": self.quick, "seconds": round(self.seconds, 2),
                "cpu_seconds": round(self.cpu_seconds, 2),
                "figures": {k: p.name for k, p in self.figures.items()}, "captions": self.captions}


class Companion:
    """The handle a companion's `run` receives: settings in, figures and numbers out."""

    def __init__(self, lecture: Lecture, out: Path, quick: bool, stream=None, dpi: int = 110):
        self.lecture, self.out, self.quick, self.dpi = lecture, Path(out), quick, dpi
        self._stream = stream if stream is not None else sys.stdout
        self._log = io.StringIO()
        self.report = Report(lecture.id, quick, self.out)

    # -- reporting ------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        """Print a line (and keep it for output.txt)."""
        print(text, file=self._stream, flush=True)
        print(text, file=self._log)

    def section(self, title: str) -> None:
        self.say("")
        self.say(f"== {title}")

    def number(self, key: str, value, text: str = "", fmt: str = ".4g") -> float:
        """Record a number under `key` and print it with its meaning."""
        value = float(value)
        self.report.numbers[key] = value
        self.say(f"{text or key}: {value:{fmt}}")
        return value

    def table(self, header: list[str], rows: list[list], fmt: str = ".4g") -> None:
        """Print an aligned text table (floats formatted with `fmt`)."""
        cells = [[f"{v:{fmt}}" if isinstance(v, (float, np.floating)) else str(v) for v in row]
                 for row in [header, *rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        # text columns left-aligned, number columns right-aligned
        text = [isinstance(rows[0][i], str) if rows else True for i in range(len(header))]
        for n, row in enumerate(cells):
            self.say("  ".join(v.ljust(w) if t else v.rjust(w)
                               for v, w, t in zip(row, widths, text)).rstrip())
            if n == 0:
                self.say("  ".join("-" * w for w in widths))

    def figure(self, name: str, fig, caption: str) -> Path:
        """Save a matplotlib Figure as `<out>/<name>.png` and record its caption."""
        path = self.out / f"{name}.png"
        fig.savefig(path, dpi=self.dpi, bbox_inches="tight")
        self.report.figures[name] = path
        self.report.captions[name] = caption
        self.say(f"figure {path.name}: {caption}")
        return path

    def progress(self, iterable, desc: str, total: int | None = None):
        """A progress bar on stderr (not part of output.txt) for loops longer than a second."""
        from tqdm.auto import tqdm

        return tqdm(iterable, desc=desc, total=total, leave=False, file=sys.stderr,
                    disable=None, dynamic_ncols=True)

    def steps(self, quick: int, full: int) -> int:
        """`quick` in the small setting, else `full`."""
        return quick if self.quick else full


def prepare_out(lecture: Lecture, out: str | Path | None) -> Path:
    """The folder a run writes to: a new `runs/lecture-<id>-<time>` by default; an existing
    folder only if it is empty or holds an earlier run of the same lecture's companion."""
    if out is not None:
        path = Path(out)
        marker = path / MARKER
        if marker.is_file():
            import json

            try:
                same = json.loads(marker.read_text()).get("lecture") == lecture.id
            except ValueError:
                same = False
            if not same:
                raise ConfigError(f"--out {path} holds another lecture's companion output",
                                  fix="pass --out with a new or empty directory")
            path = make_run_dir(path, lecture.id, allow_existing=True)
        else:
            path = make_run_dir(path, lecture.id)
    else:
        path = make_run_dir(None, f"lecture-{lecture.id}")
    probe = path / ".dlcc-write-test"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write into --out {path}: {exc.strerror}",
                          fix="pass --out with a directory you can write to") from None
    return path


def run_companion(lecture: Lecture, out: str | Path | None = None, quick: bool = False,
                  stream=None) -> Report:
    """Run `lecture`'s companion into `out`; returns the report (also saved there).

    Raises:
        InputError: the lecture has no companion yet.
        ConfigError: `out` cannot be used (a file, another run's folder, not writable).
    """
    if not lecture.available:
        raise InputError(f"lecture {lecture.id} ({lecture.title}) has no companion yet: it comes "
                         "with the A5 and advanced-topics toolkits",
                         fix="run one of the lectures `dlcc lecture list` marks as ready")
    path = prepare_out(lecture, out)
    module = importlib.import_module(f"dlcc.lectures.companions.{lecture.companion}")
    c = Companion(lecture, path, quick, stream=stream)
    c.say(f"{lecture.id}: {lecture.title} ({'quick' if quick else 'full'} setting) -> {path}")
    import torch

    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    # Companion models are small: one thread (torch's and NumPy's BLAS) avoids hand-off costs
    # that dominate tiny kernels, and on a busy machine threads that wait for a core make them
    # far slower. A companion with bigger models sets THREADS = 0 to keep the defaults.
    wanted = getattr(module, "THREADS", 1)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        if wanted:
            torch.set_num_threads(wanted)
            with threadpool_limits(limits=wanted):
                module.run(c)
        else:
            module.run(c)
    finally:
        torch.set_num_threads(threads)
    c.report.seconds = time.perf_counter() - start
    c.report.cpu_seconds = time.process_time() - cpu_start
    c.say("")
    c.say(f"done in {c.report.seconds:.1f} s ({c.report.cpu_seconds:.1f} s of CPU): "
          f"{len(c.report.figures)} figures, {len(c.report.numbers)} numbers in {path}")
    c.report.output = c._log.getvalue()
    atomic_write_text(path / "output.txt", c.report.output)
    write_json(path / "numbers.json", c.report.numbers)
    write_json(path / MARKER, c.report.to_json())
    return c.report
