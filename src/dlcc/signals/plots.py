"""Plots of ECG leads with true and detected triggers (PNG), in the style of the course.

True triggers are red dots, detected ones blue open circles, one subplot per lead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_triggers(signal: np.ndarray, true: np.ndarray, detected: np.ndarray, path: str | Path,
                  fs: float = 360.0, start: int = 0, length: int | None = None,
                  leads: list[str] | None = None, title: str = "") -> Path:
    """Save a figure of `signal[start:start+length]` (`[T, C]`) with trigger markers.

    `true`, `detected`: sample indices into the whole signal. Returns the PNG path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    T, C = signal.shape
    stop = T if length is None else min(T, start + length)
    t = np.arange(start, stop)
    leads = leads or [f"lead {i}" for i in range(C)]
    fig, axes = plt.subplots(C, 1, figsize=(12, 1.8 * C + 0.6), sharex=True, squeeze=False)
    for c, ax in enumerate(axes[:, 0]):
        ax.plot(t / fs, signal[start:stop, c], lw=0.7, color="0.2")
        for marks, style in ((true, dict(color="red", marker="o", ls="", ms=4, label="true")),
                             (detected, dict(mec="blue", mfc="none", marker="o", ls="", ms=9,
                                             label="detected"))):
            m = np.asarray(marks, dtype=np.int64)
            m = m[(m >= start) & (m < stop)]
            ax.plot(m / fs, signal[m, c], **style)
        ax.set_ylabel(leads[c])
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
