"""A small training run for the kill-and-resume test (run as a subprocess).

    python train_resume_script.py OUT full|pause|resume

"pause" prints PAUSED in the middle of epoch 4 (after the epoch-3 checkpoint) and sleeps,
so the test can SIGKILL it there. Dropout, a shuffling loader, SGD momentum, OneCycle and
BestModel make every kind of saved state matter.
"""

import sys
import time
from pathlib import Path

import torch
from torch import nn

from dlcc.train import BestModel, EarlyStopping, LambdaCallback, TensorBatches, fit, make_loader, make_scheduler
from dlcc.utils.seed import seed_everything

EPOCHS = 6


def main(out: str, mode: str) -> None:
    torch.set_num_threads(1)
    seed_everything(0)
    g = torch.Generator().manual_seed(123)
    x = torch.randn(600, 16, generator=g)
    y = (x[:, :3].sum(1) > 0).long() + (x[:, 3] > 1).long()
    train = make_loader(TensorBatches(x[:480], y[:480]), 32, shuffle=True, seed=7)
    val = make_loader(TensorBatches(x[480:], y[480:]), 64)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler, interval = make_scheduler("onecycle", optimizer, EPOCHS, len(train), max_lr=0.2)
    callbacks = [BestModel("val_loss"), EarlyStopping("val_loss", patience=100)]
    if mode == "pause":
        def pause(trainer, step, loss, lr):
            if trainer.epoch == 4 and step == 3 * len(train) + 5:
                print("PAUSED", flush=True)
                time.sleep(600)
        callbacks.append(LambdaCallback(on_batch_end=pause))
    trainer = fit(model, train, val, nn.CrossEntropyLoss(), optimizer, EPOCHS, scheduler=scheduler,
                  scheduler_interval=interval, callbacks=callbacks, device="cpu", out_dir=out,
                  resume=mode == "resume", progress=False, config={"epochs": EPOCHS, "lr": 0.05})
    torch.save({"model": model.state_dict(), "history": trainer.history,
                "global_step": trainer.global_step}, Path(out) / "final.pt")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
