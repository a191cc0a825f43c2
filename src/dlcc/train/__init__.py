"""The PyTorch training core: one explicit loop, callbacks, checkpoints, schedules, LR finder,
and the run helper every recipe trains through.

    from dlcc.train import fit, BestModel, EarlyStopping, make_scheduler, make_loader

    scheduler, interval = make_scheduler("onecycle", optimizer, epochs, len(train_loader))
    trainer = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs,
                  scheduler=scheduler, scheduler_interval=interval,
                  callbacks=[BestModel("val_accuracy", "max"), EarlyStopping("val_loss", patience=5)],
                  out_dir=run_dir, resume=False)
    trainer.history[-1]["val_accuracy"]

    # step-based: evaluate every 250 steps, keep the best weights
    trainer = fit(model, train, val, loss, optimizer, steps=5000, eval_every=250,
                  callbacks=[BestModel("val_loss")])

Recipes use `train_and_report(Task(...), cfg.train, ctx)` (run.py). See docs/training.md.
"""

from dlcc.train.budget import TimeBudget
from dlcc.train.callbacks import BestModel, Callback, EarlyStopping, LambdaCallback
from dlcc.train.checkpoint import Checkpointer, load_checkpoint, save_checkpoint
from dlcc.train.config import TrainConfig
from dlcc.train.context import RunContext
from dlcc.train.data import TensorBatches, make_loader, split_indices
from dlcc.train.evaluate import accuracy, evaluate, predict
from dlcc.train.lookahead import Lookahead
from dlcc.train.loop import Trainer, fit
from dlcc.train.lr_finder import LRFinderResult, LRRangeTest, lr_find
from dlcc.train.lr_shapes import ScheduleLR
from dlcc.train.monitor import EvalMonitor
from dlcc.train.optim import make_optimizer
from dlcc.train.run import Task, train_and_report
from dlcc.train.schedules import SCHEDULES, make_scheduler
from dlcc.utils.plots import plot_history

__all__ = [
    "BestModel", "Callback", "Checkpointer", "EarlyStopping", "EvalMonitor", "LambdaCallback",
    "LRFinderResult", "LRRangeTest", "Lookahead", "RunContext", "SCHEDULES", "ScheduleLR", "Task",
    "TensorBatches", "TimeBudget", "TrainConfig", "Trainer", "accuracy", "evaluate", "fit",
    "load_checkpoint", "lr_find", "make_loader", "make_optimizer", "make_scheduler", "plot_history",
    "predict", "save_checkpoint", "split_indices", "train_and_report",
]
