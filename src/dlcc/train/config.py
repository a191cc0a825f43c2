"""`TrainConfig`: the `train` section every PyTorch recipe shares - one vocabulary for training.

    train.epochs / train.steps / train.time_budget_s   how long (one of them at least)
    train.batch_size, train.optimizer, train.lr, ...    how each step is taken
    train.schedule and its options                      how the learning rate moves
    train.eval_every, train.select, train.patience     when to evaluate and what to keep

A recipe changes the defaults, not the names: `section(TrainConfig, epochs=20, lr=0.01)`, or
subclasses it to add keys of its own (`cifar10-fast` adds `bias_lr_scale`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dlcc.config import setting
from dlcc.errors import ConfigError

Optimizer = Literal["sgd", "adam", "adamw"]
Schedule = Literal["none", "step", "cosine", "warmup_cosine", "triangle", "onecycle"]
# schedules whose shape depends on the length of training (they cannot be extended on resume)
LENGTH_DEPENDENT = ("cosine", "warmup_cosine", "triangle", "onecycle")


@dataclass
class TrainConfig:
    epochs: int | None = setting(10, "passes over the training data (null: steps or time_budget_s ends training)", ge=1)
    steps: int | None = setting(None, "optimizer steps to train for, instead of epochs", ge=1)
    time_budget_s: float | None = setting(None, "stop after this many seconds of training (evaluations not "
                                                "counted); the schedule then follows the clock", gt=0)
    batch_size: int = setting(128, "examples per batch", ge=1)
    grad_accum_steps: int = setting(1, "batches per optimizer step (gradient accumulation)", ge=1)
    optimizer: Optimizer = setting("adamw", "sgd (with momentum), adam or adamw")
    lr: float = setting(1e-3, "learning rate (the peak of a schedule)", gt=0)
    momentum: float = setting(0.9, "SGD momentum; Adam/AdamW beta1", ge=0, lt=1)
    nesterov: bool = setting(False, "Nesterov momentum (sgd)")
    beta2: float = setting(0.999, "Adam/AdamW beta2", gt=0, lt=1)
    weight_decay: float = setting(0.0, "weight decay (decoupled for adamw, an L2 term for sgd and adam)", ge=0)
    schedule: Schedule = setting("none", "learning-rate schedule (docs/training.md#schedules)")
    warmup_steps: int = setting(0, "warmup_cosine: steps of linear warm-up (0: 5% of the steps)", ge=0)
    step_size: int = setting(10, "step: epochs between learning-rate drops", ge=1)
    gamma: float = setting(0.5, "step: factor applied at each drop", gt=0, le=1)
    pct_start: float = setting(0.3, "onecycle, triangle: fraction of training spent rising to lr", gt=0, lt=1)
    start_factor: float = setting(0.02, "onecycle, triangle: the first learning rate, as a fraction of lr", gt=0, le=1)
    end_factor: float = setting(0.0, "cosine, warmup_cosine, triangle, onecycle: the last learning rate, as a "
                                     "fraction of lr (onecycle: 0 = torch's default)", ge=0, le=1)
    clip_grad_norm: float | None = setting(None, "clip the global gradient norm to this value (null: off)", gt=0)
    amp: Literal["auto", "off", "bf16", "fp16"] = setting("auto", "mixed precision on CUDA (CPUs always run float32)")
    compile: bool | Literal["auto"] = setting("auto", "torch.compile the model (auto: on CUDA only)")
    parallel: Literal["ddp", "fsdp"] = setting("ddp", "with several processes: ddp (each holds the whole model) or "
                                                      "fsdp (weights, gradients and optimizer state sharded across "
                                                      "them, for models too big for one device; char-gpt)")
    sync_batchnorm: bool = setting(False, "with several processes on GPUs: BatchNorm statistics over every "
                                          "process's batch (SyncBatchNorm; CUDA only)")
    deterministic: bool = setting(True, "deterministic GPU kernels (no cuDNN autotuning); false is faster on "
                                        "GPUs, and a rerun then differs a little (CPUs are always deterministic)")
    eval_every: int | None = setting(None, "evaluate every N optimizer steps (null: after every epoch)", ge=1)
    select: str = setting("val_loss", "the validation metric that picks the weights kept (e.g. val_accuracy), "
                                      "or last")
    select_mode: Literal["auto", "min", "max"] = setting("auto", "whether select is better low or high (auto: low for "
                                                                 "losses, errors and distances, else high)")
    patience: int = setting(0, "early stopping: evaluations without improvement of select (0: off)", ge=0)
    min_delta: float = setting(0.0, "early stopping: the smallest change that counts as an improvement", ge=0)
    checkpoint_every: int = setting(1, "write checkpoints/last.pt every N evaluations", ge=1)
    clock: Literal["wall", "cpu"] = setting("wall", "training-time clock: wall, or cpu (process CPU time / "
                                                    "threads, for shared machines)")
    lr_find: bool = setting(False, "run the LR range test first and save lr_find.png (lr is not changed)")

    def check(self, where: str) -> None:
        if self.epochs is not None and self.steps is not None:
            raise ConfigError(f"{where}epochs={self.epochs} and {where}steps={self.steps} are both set; training "
                              "counts one of them", fix=f"--set {where}steps=null (or {where}epochs=null)")
        if self.epochs is None and self.steps is None and self.time_budget_s is None:
            raise ConfigError(f"nothing ends training: {where}epochs, {where}steps and {where}time_budget_s are all null",
                              fix=f"--set {where}epochs=10 (or {where}steps / {where}time_budget_s)")
        if self.select != "last" and not self.select.startswith("val_"):
            raise ConfigError(f"{where}select={self.select!r}: weights are selected on a validation metric "
                              "(val_loss, val_accuracy, ...) or kept as they are last",
                              fix=f"--set {where}select=val_loss (or last)")
        if self.patience and self.select == "last":
            raise ConfigError(f"{where}patience={self.patience} needs a validation metric to watch, but "
                              f"{where}select=last", fix=f"--set {where}select=val_loss, or {where}patience=0")
        if self.schedule == "onecycle" and self.time_budget_s is not None and self.epochs is None and self.steps is None:
            raise ConfigError(f"{where}schedule=onecycle needs a number of steps, but only {where}time_budget_s "
                              "limits training", fix=f"--set {where}schedule=triangle (it follows the clock)")

    @property
    def select_direction(self) -> str:
        """'min' or 'max' for `select`: `select_mode`, or by its name (losses, errors, distances,
        FID, perplexity, bits per character: lower is better; anything else: higher)."""
        if self.select_mode != "auto":
            return self.select_mode
        lower = ("loss", "error", "mse", "mae", "fid", "distance", "perplexity", "bpc")
        return "min" if any(word in self.select for word in lower) else "max"
