"""The training loop: one explicit `Trainer`, and `fit(...)`, which builds one and runs it.

Per epoch, top to bottom:

    on_epoch_start
    for each batch:  forward (autocast on GPU) -> loss -> NaN check -> backward (loss / accum)
                     every `grad_accum_steps` batches: unscale, clip, optimizer step, zero grads,
                     per-step scheduler, on_batch_end
    validation (no grad) -> metrics dict -> per-epoch scheduler -> history -> on_epoch_end

Everything else (checkpoints, best model, early stopping, tracking, pruning, the LR finder)
is a callback (see callbacks.py). Epochs count from 1; `trainer.epoch` is the epoch running
or last finished, `trainer.global_step` the number of optimizer steps taken.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from dlcc.errors import ConfigError, TrainingDiverged
from dlcc.train.callbacks import Callback
from dlcc.train.checkpoint import FORMAT, VERSION, Checkpointer, capture_rng_state, restore_rng_state
from dlcc.train.evaluate import DEFAULT_METRICS, Metric, autocast_context, evaluate, to_device

AMP_CHOICES = ("auto", "off", "bf16", "fp16")


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `amp` on `device`, or None for full float32.

    Mixed precision is for CUDA only: on CPU/MPS every choice runs in float32, so CPU
    results never depend on this setting. "auto" picks bf16 where the GPU supports it, else fp16.
    """
    if amp not in AMP_CHOICES:
        raise ConfigError(f"amp={amp!r} is not one of {', '.join(AMP_CHOICES)}", fix="e.g. amp='auto'")
    if device.type != "cuda" or amp == "off":
        if amp in ("bf16", "fp16"):
            warnings.warn(f"amp={amp!r} ignored on {device.type}: mixed precision is used on CUDA only",
                          stacklevel=3)
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if amp == "bf16" else torch.float16


def _bars_enabled(progress: bool) -> bool:
    return bool(progress) and sys.stderr.isatty()


class Trainer:
    """Trains `model` with `optimizer` on `loss_fn(outputs, targets)` (a mean over the batch).

    Args:
        scheduler: a torch LR scheduler (see `make_scheduler`), stepped per epoch or per
            optimizer step according to `scheduler_interval` ("epoch" | "step").
            ReduceLROnPlateau is stepped with the epoch's val_loss.
        callbacks: `Callback` objects, called in order.
        device: "auto", "cpu", "cuda", a torch.device...; the model is moved there.
        grad_accum_steps: micro-batches per optimizer step. Each micro-batch loss is divided by
            the number of micro-batches in its group, so k batches of size b give the gradient
            of one batch of size k*b (the last group of an epoch may be shorter).
        clip_grad_norm: clip the global gradient norm to this value before each step (None: off).
        amp: "auto" | "off" | "bf16" | "fp16" - mixed precision on CUDA only (fp16 uses a GradScaler).
        metrics: name -> fn(outputs, targets) -> batch mean; computed on train and val batches.
            Default {"accuracy": accuracy}; pass {} for regression.
        progress: tqdm bars per epoch and per batch (only when stderr is a terminal).
        config: a JSON-able dict saved in checkpoints (a resume with a different config is refused).
        out_dir: where callbacks write (checkpoints, plots); None for none.
        log: a function for one line per epoch (e.g. print); None: silent.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable, *,
                 scheduler=None, scheduler_interval: str = "epoch",
                 callbacks: Sequence[Callback] = (), device: str | torch.device = "auto",
                 grad_accum_steps: int = 1, clip_grad_norm: float | None = None, amp: str = "auto",
                 metrics: dict[str, Metric] | None = None, progress: bool = True,
                 config: dict | None = None, out_dir: str | Path | None = None,
                 log: Callable[[str], None] | None = None):
        if scheduler_interval not in ("epoch", "step"):
            raise ConfigError(f"scheduler_interval={scheduler_interval!r}; expected 'epoch' or 'step'",
                              fix="per-batch schedules (OneCycle, warm-up) use 'step'")
        if int(grad_accum_steps) < 1:
            raise ConfigError(f"grad_accum_steps must be >= 1, got {grad_accum_steps}", fix="e.g. 1 or 4")
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ConfigError(f"clip_grad_norm must be positive or None, got {clip_grad_norm}",
                              fix="e.g. clip_grad_norm=1.0")
        if isinstance(device, str):
            from dlcc.utils.device import choose_device

            device = choose_device(device)
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.callbacks = list(callbacks)
        self.grad_accum_steps = int(grad_accum_steps)
        self.clip_grad_norm = clip_grad_norm
        self.amp_dtype = resolve_amp(amp, self.device)
        # A GradScaler only for fp16: bf16 has float32's range and needs no loss scaling.
        self.scaler = (torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None)
        self.metrics = DEFAULT_METRICS if metrics is None else dict(metrics)
        self.progress = progress
        self.config = _json_roundtrip(config or {})
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.log = log

        self.epoch = 0            # last epoch started (1-based); 0 before training
        self.epochs: int | None = 0  # the epoch count of the current fit (None: no limit)
        self.global_step = 0      # optimizer steps taken
        self.history: list[dict[str, float]] = []
        self.should_stop = False
        self.stop_reason: str | None = None
        self.train_loader = None
        self.val_loader = None

    # ----------------------------------------------------------------------------- running
    def fit(self, train_loader: Iterable, val_loader: Iterable | None, epochs: int | None) -> list[dict]:
        """Train until `epochs` epochs are done (counting epochs of a resumed run) or a callback
        stops it; `epochs=None` has no epoch limit (a callback, e.g. a time budget, must stop
        it). Returns the history: one metrics dict per epoch."""
        if epochs is not None and int(epochs) < 1:
            raise ConfigError(f"epochs must be >= 1, got {epochs}", fix="e.g. --set epochs=10")
        self.train_loader, self.val_loader = train_loader, val_loader
        self.epochs = None if epochs is None else int(epochs)
        self.should_stop, self.stop_reason = False, None
        self._call("on_fit_start")  # a Checkpointer with resume=True restores state here
        bars = _bars_enabled(self.progress)
        remaining = (itertools.count(self.epoch + 1) if self.epochs is None
                     else range(self.epoch + 1, self.epochs + 1))
        epoch_bar = tqdm(remaining, desc="epochs", disable=not bars,
                         initial=self.epoch, total=self.epochs, dynamic_ncols=True)
        for epoch in epoch_bar:
            if self.should_stop:  # e.g. resumed from a run that had stopped early
                break
            self.epoch = epoch
            self._call("on_epoch_start", epoch)
            start = time.perf_counter()
            metrics: dict[str, float] = {"epoch": epoch}
            metrics.update(self.train_one_epoch(train_loader, bars))
            if val_loader is not None:
                val = evaluate(self.model, val_loader, self.loss_fn, self.device, self.metrics, self.amp_dtype)
                metrics.update({f"val_{name}": value for name, value in val.items()})
            metrics["lr"] = self._current_lr()
            metrics["time_s"] = time.perf_counter() - start
            if self.scheduler is not None and self.scheduler_interval == "epoch":
                self._scheduler_step(metrics)
            self.history.append(metrics)
            self._call("on_epoch_end", epoch, metrics)
            epoch_bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items() if k.endswith(("loss", "accuracy"))})
            self._log_epoch(metrics, bars)
            if self.should_stop:
                break
        epoch_bar.close()
        if self.stop_reason and self.log:
            self.log(self.stop_reason)
        final = dict(self.history[-1]) if self.history else {}
        self._call("on_fit_end", final)
        return self.history

    def train_one_epoch(self, loader: Iterable, bars: bool = False) -> dict[str, float]:
        """One pass over `loader`; returns {"train_loss": ..., "train_<metric>": ...}."""
        self.model.train()
        sums = {name: 0.0 for name in ["loss", *self.metrics]}
        seen = 0
        n_batches = len(loader) if hasattr(loader, "__len__") else None
        accum = self.grad_accum_steps
        group_losses: list[float] = []
        self.optimizer.zero_grad(set_to_none=True)
        batch_bar = tqdm(loader, desc=f"epoch {self.epoch}", leave=False, disable=not bars,
                         dynamic_ncols=True)
        for i, batch in enumerate(batch_bar):
            inputs, targets = to_device(batch, self.device, non_blocking=self.device.type == "cuda")
            with autocast_context(self.device, self.amp_dtype):
                outputs = self.model(inputs)
                loss = self.loss_fn(outputs, targets)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise TrainingDiverged(
                    f"the training loss became {loss_value} at epoch {self.epoch}, batch {i + 1} "
                    f"(optimizer step {self.global_step + 1}); training was stopped",
                    fix="lower the learning rate, set clip_grad_norm (e.g. 1.0), or check the "
                        "inputs for NaN/inf values")
            # Divide by the size of this accumulation group so the summed gradient is the
            # gradient of the mean loss over the group, i.e. of one big batch.
            group_start = (i // accum) * accum
            group = accum if n_batches is None else min(accum, n_batches - group_start)
            scaled = loss / group
            (self.scaler.scale(scaled) if self.scaler else scaled).backward()
            group_losses.append(loss_value)

            n = len(targets)
            seen += n
            sums["loss"] += loss_value * n
            with torch.no_grad():  # kept as tensors: no device sync per batch for metrics
                for name, fn in self.metrics.items():
                    sums[name] += fn(outputs.detach().float(), targets) * n

            if len(group_losses) == group:
                self._optimizer_step(sum(group_losses) / len(group_losses))
                group_losses = []
                if bars:
                    batch_bar.set_postfix(loss=f"{loss_value:.4g}")
            if self.should_stop:
                break
        if group_losses and not self.should_stop:  # a loader without len() ended inside a group
            self._optimizer_step(sum(group_losses) / len(group_losses))
        batch_bar.close()
        return {f"train_{name}": float(total) / max(seen, 1) for name, total in sums.items()}

    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """Loss and metrics of the current model over `loader` (no gradient)."""
        return evaluate(self.model, loader, self.loss_fn, self.device, self.metrics, self.amp_dtype)

    # ------------------------------------------------------------------------------ pieces
    def _optimizer_step(self, loss_value: float) -> None:
        if self.scaler is not None:
            if self.clip_grad_norm is not None:
                self.scaler.unscale_(self.optimizer)  # clip the true gradients, not scaled ones
                nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            if self.clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.global_step += 1
        lr = self._current_lr()  # the LR this step used
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        self._call("on_batch_end", self.global_step, loss_value, lr)

    def _scheduler_step(self, metrics: dict) -> None:
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            if "val_loss" not in metrics:
                raise ConfigError("ReduceLROnPlateau needs a validation loss but fit() got no val_loader",
                                  fix="pass a val_loader or choose another schedule")
            self.scheduler.step(metrics["val_loss"])
        else:
            self.scheduler.step()

    def _current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def _log_epoch(self, metrics: dict, bars: bool) -> None:
        if self.log is None:
            return
        parts = [f"epoch {metrics['epoch']}" + ("" if self.epochs is None else f"/{self.epochs}")]
        parts += [f"{k} {v:.4f}" for k, v in metrics.items() if k.endswith(("loss", "accuracy"))]
        parts += [f"lr {metrics['lr']:.3g}", f"{metrics['time_s']:.1f}s"]
        line = "  ".join(parts)
        if bars:
            with tqdm.external_write_mode():  # lift the bars off the terminal while logging
                self.log(line)
        else:
            self.log(line)

    # ------------------------------------------------------------------------- checkpoints
    def _callback_keys(self) -> list[tuple[str, Callback]]:
        """Stable names for callbacks in checkpoints: class name, plus #n for repeats."""
        keys, counts = [], {}
        for cb in self.callbacks:
            name = type(cb).__name__
            counts[name] = counts.get(name, 0) + 1
            keys.append((name if counts[name] == 1 else f"{name}#{counts[name]}", cb))
        return keys

    def _stateful_datasets(self) -> list[tuple[str, Any]]:
        """The loaders' datasets that draw their own random numbers (e.g. random ECG chunks) and
        so have `state_dict()` / `load_state_dict()`, to be saved with the checkpoint."""
        found = []
        for name, loader in (("train", self.train_loader), ("val", self.val_loader)):
            dataset = getattr(loader, "dataset", None)
            if callable(getattr(dataset, "state_dict", None)) and callable(getattr(dataset, "load_state_dict", None)):
                found.append((name, dataset))
        return found

    def state_dict(self) -> dict:
        """Everything needed to continue exactly where training is now (weights-only-safe)."""
        loaders = {}
        for name, loader in (("train", self.train_loader), ("val", self.val_loader)):
            generator = getattr(loader, "generator", None)
            loaders[name] = generator.get_state() if isinstance(generator, torch.Generator) else None
        datasets = {name: dataset.state_dict() for name, dataset in self._stateful_datasets()}
        callbacks = {}
        for key, cb in self._callback_keys():
            state = cb.state_dict()
            if state is not None:
                callbacks[key] = state
        return {
            "format": FORMAT, "version": VERSION,
            "epoch": self.epoch, "global_step": self.global_step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": capture_rng_state(), "loaders": loaders, "datasets": datasets, "callbacks": callbacks,
            "history": [dict(h) for h in self.history], "stop_reason": self.stop_reason,
            "config": self.config, "torch_version": str(torch.__version__),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict` returned (a `ConfigError` when it does not fit this run)."""
        if state.get("format") != FORMAT:
            raise ConfigError("this file is not a dlcc training checkpoint (no 'format' entry)",
                              fix="resume from checkpoints/last.pt written by dlcc")
        if self.config and state.get("config") and state["config"] != self.config:
            diff = _config_diff(state["config"], self.config)
            raise ConfigError(f"the checkpoint was written with different settings: {diff}",
                              fix="resume with the same settings, or start a new run in a new --out")
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as exc:
            raise ConfigError(f"the checkpoint's weights do not fit this model: {str(exc)[:300]}",
                              fix="resume with the same model settings") from None
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        for key, cb in self._callback_keys():
            if key in state.get("callbacks", {}):
                cb.load_state_dict(state["callbacks"][key])
        for name, loader in (("train", self.train_loader), ("val", self.val_loader)):
            generator = getattr(loader, "generator", None)
            if isinstance(generator, torch.Generator) and state["loaders"].get(name) is not None:
                generator.set_state(state["loaders"][name])
        for name, dataset in self._stateful_datasets():
            if name in state.get("datasets", {}):
                dataset.load_state_dict(state["datasets"][name])
        restore_rng_state(state["rng"])
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        self.history = [dict(h) for h in state["history"]]
        self.stop_reason = state.get("stop_reason")
        self.should_stop = self.stop_reason is not None


def _json_roundtrip(config: dict) -> dict:
    """A plain JSON copy of `config` (checkpoints must hold only weights-only-safe values)."""
    import json

    try:
        return json.loads(json.dumps(config))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"the trainer config must be JSON-able (numbers, strings, lists, dicts): {exc}",
                          fix="convert paths and arrays to str/list before passing config=") from None


def _flatten(cfg: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in cfg.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _config_diff(old: dict, new: dict) -> str:
    a, b = _flatten(old), _flatten(new)
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    shown = ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys[:5])
    return shown + (f" (+{len(keys) - 5} more)" if len(keys) > 5 else "")


def fit(model: nn.Module, train_loader: Iterable, val_loader: Iterable | None, loss_fn: Callable,
        optimizer: torch.optim.Optimizer, epochs: int | None, *, scheduler=None,
        scheduler_interval: str = "epoch", callbacks: Sequence[Callback] = (),
        device: str | torch.device = "auto", grad_accum_steps: int = 1,
        clip_grad_norm: float | None = None, amp: str = "auto",
        metrics: dict[str, Metric] | None = None, out_dir: str | Path | None = None,
        checkpoint_every: int = 1, resume: bool = False, progress: bool = True,
        config: dict | None = None, log: Callable[[str], None] | None = None) -> Trainer:
    """Train `model` and return the `Trainer` (its `history`, `model`, `global_step`, ...).

    With `out_dir`, a `Checkpointer` saves `out_dir/checkpoints/last.pt` every
    `checkpoint_every` epochs, and `resume=True` continues from it. Other arguments: see `Trainer`.
    """
    callbacks = list(callbacks)
    if out_dir is not None:
        callbacks.append(Checkpointer(Path(out_dir) / "checkpoints", every=checkpoint_every,
                                      resume=resume, log=log))
    elif resume:
        raise ConfigError("resume=True needs out_dir (where the checkpoint is)",
                          fix="pass out_dir=the directory of the run to continue")
    trainer = Trainer(model, optimizer, loss_fn, scheduler=scheduler,
                      scheduler_interval=scheduler_interval, callbacks=callbacks, device=device,
                      grad_accum_steps=grad_accum_steps, clip_grad_norm=clip_grad_norm, amp=amp,
                      metrics=metrics, progress=progress, config=config, out_dir=out_dir, log=log)
    trainer.fit(train_loader, val_loader, epochs)
    return trainer
