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

LOAD_NOTE = ("A load average near the core count is this benchmark alone; above it, other jobs shared "
             "the CPU and the times are pessimistic.")
