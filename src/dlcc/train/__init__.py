"""The PyTorch training core: one explicit loop, callbacks, checkpoints, schedules, LR finder.

    from dlcc.train import fit, BestModel, EarlyStopping, make_scheduler, make_loader

    scheduler, interval = make_scheduler("onecycle", optimizer, epochs, len(train_loader))
    trainer = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs,
                  scheduler=scheduler, scheduler_interval=interval,
                  callbacks=[BestModel("val_accuracy", "max"), EarlyStopping("val_loss", patience=5)],
                  out_dir=run_dir, resume=False)
    trainer.history[-1]["val_accuracy"]

See docs/training.md.
"""

from dlcc.train.callbacks import BestModel, Callback, EarlyStopping, LambdaCallback
from dlcc.train.checkpoint import Checkpointer, load_checkpoint, save_checkpoint
from dlcc.train.data import TensorBatches, make_loader, split_indices
from dlcc.train.evaluate import accuracy, evaluate, predict
from dlcc.train.loop import Trainer, fit
from dlcc.train.lr_finder import LRFinderResult, LRRangeTest, lr_find
from dlcc.utils.plots import plot_history
from dlcc.train.schedules import SCHEDULES, make_scheduler

__all__ = [
    "BestModel", "Callback", "Checkpointer", "EarlyStopping", "LambdaCallback", "LRFinderResult",
    "LRRangeTest", "SCHEDULES", "TensorBatches", "Trainer", "accuracy", "evaluate", "fit",
    "load_checkpoint", "lr_find", "make_loader", "make_scheduler", "plot_history", "predict",
    "save_checkpoint", "split_indices",
]
