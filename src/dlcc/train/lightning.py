"""PyTorch Lightning, for those who use it: a dlcc model and its loaders trained by Lightning.

    dlcc run mnist1d-mlp --engine lightning --tracker tb     # the recipe, trained by Lightning

or in Python, with any Lightning loggers and callbacks:

    module = DlccModule(model, loss_fn, train_cfg, metrics={"accuracy": accuracy})
    data = DlccDataModule(train_loader, val_loader)
    trainer = lightning.Trainer(**trainer_options(train_cfg, device), logger=..., callbacks=[...])
    trainer.fit(module, datamodule=data)

The module takes its optimizer (`train.optimizer`, `lr`, `weight_decay`, parameter groups) and
its schedule from the same `TrainConfig` as `dlcc run`, so for the same seed on a CPU both engines
take the same steps (tests/train/test_train_lightning.py checks the weights). Selection on
validation is Lightning's `ModelCheckpoint` (weights only), early stopping its `EarlyStopping`.
Not supported under Lightning: `train.time_budget_s`, `--resume`, and the training callbacks
some recipes add to dlcc's loop (cifar10-fast's lookahead, the char-RNN's hidden-state reset):
those recipes run with the dlcc engine only, and say so. docs/lightning.md says when to use which.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import nn

from dlcc.errors import ConfigError
from dlcc.train.config import TrainConfig
from dlcc.train.evaluate import DEFAULT_METRICS, Metric
from dlcc.train.optim import make_optimizer

KINDS = {"tb": "TensorBoardLogger", "mlflow": "MLFlowLogger", "wandb": "WandbLogger", "jsonl": "CSVLogger"}


class DlccModule(L.LightningModule):
    """A dlcc model, its loss and batch metrics as a `LightningModule`.

    Args:
        model: any `nn.Module` taking the loader's inputs.
        loss_fn: `loss(outputs, targets)`, a batch mean.
        cfg: the run's `TrainConfig` (optimizer, learning rate, schedule).
        metrics: name -> batch metric, logged as train_<name> and val_<name> per epoch.
        param_groups: optimizer parameter groups (None: all parameters).
        steps_per_epoch: optimizer steps in one pass (for per-epoch schedules).
    """

    def __init__(self, model: nn.Module, loss_fn: Callable, cfg: TrainConfig,
                 metrics: dict[str, Metric] | None = None, param_groups: list[dict] | None = None,
                 steps_per_epoch: int = 1):
        super().__init__()
        self.model, self.loss_fn, self.cfg = model, loss_fn, cfg
        self.batch_metrics = dict(DEFAULT_METRICS if metrics is None else metrics)
        self.param_groups, self.steps_per_epoch = param_groups, max(1, steps_per_epoch)

    def forward(self, x):
        return self.model(x)

    def _step(self, batch, split: str):
        inputs, targets = batch
        outputs = self.model(inputs)
        loss = self.loss_fn(outputs, targets)
        n = len(targets)
        self.log(f"{split}_loss", loss.detach(), on_step=False, on_epoch=True, batch_size=n)
        for name, fn in self.batch_metrics.items():
            self.log(f"{split}_{name}", fn(outputs.detach().float(), targets), on_step=False, on_epoch=True,
                     batch_size=n)
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def configure_optimizers(self):
        cfg = self.cfg
        optimizer = make_optimizer(self.param_groups if self.param_groups is not None else self.parameters(), cfg)
        scheduler = lambda_schedule(cfg, optimizer, self.trainer.estimated_stepping_batches, self.steps_per_epoch)
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def lambda_schedule(cfg: TrainConfig, optimizer, total_steps: int, steps_per_epoch: int):
    """`train.schedule` as a per-step torch scheduler (None for "none"): the same factors as
    dlcc's `ScheduleLR` (which also follows time budgets) or torch's OneCycleLR."""
    from dlcc.train.lr_shapes import cosine, triangle

    total = max(1, int(total_steps))
    if cfg.schedule == "none":
        return None
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=total,
            pct_start=cfg.pct_start, div_factor=1.0 / cfg.start_factor,
            final_div_factor=cfg.start_factor / cfg.end_factor if cfg.end_factor else 1e4,
            cycle_momentum=cfg.optimizer != "sgd" or cfg.momentum > 0, base_momentum=0.85, max_momentum=0.95)
    epochs = max(1, round(total / steps_per_epoch))
    warmup = cfg.warmup_steps or max(1, round(0.05 * total))

    def factor(step: int) -> float:
        if cfg.schedule == "step":
            return cfg.gamma ** ((step // steps_per_epoch) // cfg.step_size)
        if cfg.schedule == "cosine":
            return cosine((step // steps_per_epoch) / epochs, cfg.end_factor)
        if cfg.schedule == "warmup_cosine":
            if step < warmup:
                return (step + 1) / warmup
            return cosine((step - warmup) / max(1, total - warmup), cfg.end_factor)
        return triangle(step / total, cfg.start_factor, cfg.pct_start, cfg.end_factor)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class DlccDataModule(L.LightningDataModule):
    """Training and validation loaders (any iterables of `(inputs, targets)`) as a DataModule."""

    def __init__(self, train: Iterable, val: Iterable | None = None):
        super().__init__()
        self.train, self.val = train, val

    def train_dataloader(self):
        return self.train

    def val_dataloader(self):
        return self.val if self.val is not None else []


class History(L.Callback):
    """dlcc-style history rows ({"epoch", "step", "train_loss", "val_loss", ...}) from what the
    module logged, one per validation (and one at the end of training)."""

    def __init__(self):
        self.rows: list[dict[str, Any]] = []
        self._start = time.perf_counter()

    def _row(self, trainer) -> dict[str, Any]:
        row = {"epoch": trainer.current_epoch + 1, "step": trainer.global_step}
        row.update({k: float(v) for k, v in trainer.callback_metrics.items()
                    if k.startswith(("train_", "val_")) and not k.endswith("_step")})
        row["lr"] = float(trainer.optimizers[0].param_groups[0]["lr"]) if trainer.optimizers else None
        now = time.perf_counter()
        row["time_s"], self._start = now - self._start, now
        return row

    def on_train_epoch_end(self, trainer, pl_module):
        if not self.rows or self.rows[-1]["step"] != trainer.global_step:
            self.rows.append(self._row(trainer))
        else:   # validation ran first in this epoch: add the epoch's training means to its row
            self.rows[-1].update({k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("train_")})

    def on_validation_epoch_end(self, trainer, pl_module):
        if trainer.sanity_checking:
            return
        self.rows.append(self._row(trainer))


def trainer_options(cfg: TrainConfig, device: torch.device) -> dict[str, Any]:
    """`lightning.Trainer` keyword arguments for `cfg` on `device` (no logger, no callbacks)."""
    if cfg.time_budget_s is not None:
        raise ConfigError("train.time_budget_s is not supported with --engine lightning",
                          fix="limit training with train.epochs or train.steps, or use the dlcc engine")
    precision = "32-true"
    if device.type == "cuda" and cfg.amp != "off":
        bf16 = cfg.amp == "bf16" or (cfg.amp == "auto" and torch.cuda.is_bf16_supported())
        precision = "bf16-mixed" if bf16 else "16-mixed"
    return {
        "accelerator": "gpu" if device.type == "cuda" else device.type, "devices": 1,
        "max_epochs": cfg.epochs if cfg.steps is None else -1, "max_steps": cfg.steps or -1,
        "val_check_interval": cfg.eval_every, "check_val_every_n_epoch": None if cfg.eval_every else 1,
        "accumulate_grad_batches": cfg.grad_accum_steps, "gradient_clip_val": cfg.clip_grad_norm,
        "precision": precision, "num_sanity_val_steps": 0, "enable_model_summary": False, "log_every_n_steps": 1,
        "deterministic": cfg.deterministic, "benchmark": not cfg.deterministic,
    }


def make_loggers(kinds: str, out_dir: Path, name: str) -> list:
    """Lightning's loggers for `--tracker` kinds (tb, mlflow, wandb; jsonl -> CSV files)."""
    from lightning.pytorch import loggers

    out = []
    for kind in [k.strip() for k in str(kinds or "none").split(",") if k.strip() not in ("", "none")]:
        if kind == "tb":
            out.append(loggers.TensorBoardLogger(str(out_dir), name="lightning", version="tb"))
        elif kind == "mlflow":
            out.append(loggers.MLFlowLogger(experiment_name=name, tracking_uri=f"file:{out_dir / 'mlruns'}"))
        elif kind == "wandb":
            out.append(loggers.WandbLogger(name=name, save_dir=str(out_dir), offline=True))
        else:
            out.append(loggers.CSVLogger(str(out_dir), name="lightning", version="csv"))
    return out


def fit_lightning(model: nn.Module, train: Iterable, val: Iterable | None, loss_fn: Callable, cfg: TrainConfig, *,
                  device: torch.device, out_dir: Path, metrics: dict[str, Metric] | None = None,
                  param_groups: list[dict] | None = None, tracker: str = "none", name: str = "run",
                  progress: bool = False, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train with Lightning as `cfg` says; the model ends with the kept (selected) weights.

    Returns {"history": rows, "best": that evaluation's row or None, "steps", "epochs",
    "fit_time_s", "stop_reason"}.
    """
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from dlcc.train.checkpoint import load_checkpoint

    steps_per_epoch = -(-len(train) // cfg.grad_accum_steps) if hasattr(train, "__len__") else 1
    module = DlccModule(model, loss_fn, cfg, metrics, param_groups, steps_per_epoch)
    history = History()
    callbacks: list = [history]
    checkpoint = None
    if cfg.select != "last":
        checkpoint = ModelCheckpoint(dirpath=str(out_dir / "checkpoints" / "lightning"), monitor=cfg.select,
                                     mode=cfg.select_direction, save_top_k=1, save_weights_only=True)
        callbacks.append(checkpoint)
        if cfg.patience:
            callbacks.append(EarlyStopping(cfg.select, min_delta=cfg.min_delta, patience=cfg.patience,
                                           mode=cfg.select_direction))
    loggers = make_loggers(tracker, out_dir, name)
    trainer = L.Trainer(**trainer_options(cfg, device), logger=loggers or False, callbacks=callbacks,
                        enable_checkpointing=checkpoint is not None, enable_progress_bar=progress,
                        default_root_dir=str(out_dir))
    start = time.perf_counter()
    trainer.fit(module, datamodule=DlccDataModule(train, val))
    fit_time = time.perf_counter() - start
    best = None
    if checkpoint is not None and checkpoint.best_model_path:
        state = load_checkpoint(checkpoint.best_model_path)["state_dict"]
        model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
        best_step = int(Path(checkpoint.best_model_path).stem.split("step=")[-1].split("-")[0])
        best = next((row for row in history.rows if row["step"] == best_step and cfg.select in row), None)
        log(f"lightning: kept the weights of step {best_step} ({cfg.select} {float(checkpoint.best_model_score):.4f})")
    stopped = any(isinstance(cb, EarlyStopping) and cb.stopped_epoch for cb in callbacks)
    return {"history": history.rows, "best": best, "steps": trainer.global_step,
            "epochs": trainer.current_epoch + (0 if stopped else 0), "fit_time_s": fit_time,
            "stop_reason": "early stopping (Lightning)" if stopped else None}
