"""Machine information recorded beside every benchmark result."""

from __future__ import annotations

import datetime as _dt
import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded ([] where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine_busy_s() -> float | None:
    """CPU seconds every core of the machine has spent busy since boot (user, nice, system, irq,
    softirq, steal from /proc/stat), or None off Linux. The difference over a run counts work that
    getrusage cannot see, e.g. processes inside a bubblewrap sandbox that are reaped by the
    sandbox's own init rather than by the benchmark; it includes anything else running."""
    try:
        with open("/proc/stat", encoding="utf-8") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def machine_info() -> dict:
    import numpy
    import torch

    return {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "cuda": torch.cuda.is_available(),
        "platform": platform.platform(),
    }


def machine_markdown() -> str:
    info = machine_info()
    return "\n".join(f"- {k}: {v}" for k, v in info.items())


def report(lines: list[str], save, data: dict) -> str:
    """Finish a result table: the load and the machine under it, printed, and with `save`
    (a path without suffix) written to save.md and save.json (`data` plus the machine)."""
    import json
    from pathlib import Path

    lines = [*lines, "", f"Load averages at the end: {loadavg()} {LOAD_NOTE}", "", "## Machine", "",
             machine_markdown()]
    text = "\n".join(lines) + "\n"
    print(text)
    if save:
        save = Path(save)
        save.parent.mkdir(parents=True, exist_ok=True)
        save.with_suffix(".md").write_text(text)
        save.with_suffix(".json").write_text(json.dumps({**data, "machine": machine_info(), "load": loadavg()},
                                                        indent=2) + "\n")
    return text

LOAD_NOTE = ("A load average near the core count is this benchmark alone; above it, other jobs shared "
             "the CPU and the times are pessimistic.")
