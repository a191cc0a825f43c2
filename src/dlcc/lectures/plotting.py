"""Figures for companions: matplotlib `Figure` objects without pyplot (no display, no global
state, safe to build many in one process)."""

from __future__ import annotations

from matplotlib.figure import Figure


def new_figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (6.0, 4.0),
               **subplot_kw):
    """A figure and its axes (a single Axes for 1x1, else an array shaped (nrows, ncols) with
    singleton dimensions squeezed, as `plt.subplots` returns)."""
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, **subplot_kw)
    return fig, axes


def image_grid(images, titles=None, ncols: int = 8, size_per: float = 1.2, cmap: str = "gray",
               vmin=None, vmax=None):
    """A grid of 2-D (or HxWx3) images with optional titles; returns the figure."""
    n = len(images)
    nrows = (n + ncols - 1) // ncols
    fig = Figure(figsize=(ncols * size_per, nrows * size_per * 1.1), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(titles[i], fontsize=7)
    return fig


def plain_log_ticks(ax) -> None:
    """Keep major tick labels only on log axes (minor labels overlap on short ranges)."""
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())


def decision_map(ax, predict, x, y, title: str, steps: int = 200, pad: float = 0.3) -> None:
    """Colour the plane by `predict(points [M, 2]) -> labels [M]` and scatter the data on it."""
    import numpy as np

    lo, hi = x.min(0) - pad, x.max(0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype(x.dtype)
    zz = predict(grid).reshape(gx.shape)
    ax.contourf(gx, gy, zz, alpha=0.25, levels=np.arange(zz.max() + 2) - 0.5, cmap="tab10",
                vmin=0, vmax=9)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="tab10", vmin=0, vmax=9, s=8)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
