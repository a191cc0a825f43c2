"""Experiment tracking: one `Tracker` interface, four backends, one training-loop callback.

    from dlcc.track import make_tracker, TrackerCallback
    tracker = make_tracker("tb", run_dir, "cifar10-mlp", config)   # tb | mlflow | wandb | jsonl | none
    fit(..., callbacks=[TrackerCallback(tracker)])
    tracker.log_figure("confusion", fig, step=trainer.global_step)
    tracker.close()

Backends are imported only when chosen, so `import dlcc.track` costs nothing.
See docs/tracking.md.
"""

from dlcc.track.base import MultiTracker, Tracker
from dlcc.track.factory import KINDS, make_tracker

__all__ = ["KINDS", "MultiTracker", "Tracker", "TrackerCallback", "make_tracker"]


def __getattr__(name):
    # TrackerCallback imports the training core's Callback base; load it only when asked for.
    if name == "TrackerCallback":
        from dlcc.track.callback import TrackerCallback

        return TrackerCallback
    raise AttributeError(name)
