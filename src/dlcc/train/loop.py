"""The training loop: one explicit `Trainer`, and `fit(...)`, which builds one and runs it.

Training is a run of optimizer steps over passes of the training loader (epochs). It ends
after `epochs` passes or `steps` optimizer steps, whichever is set, or when a callback stops
it (a time budget, early stopping). Along the way it *evaluates*: after every pass by default,
or every `eval_every` optimizer steps. Each evaluation is one row of `trainer.history`.

    on_fit_start                          (a resumed run restores its state here)
    for each pass over train_loader:
        on_epoch_start(epoch)
        for each batch:
            forward (autocast on CUDA) -> loss -> backward(loss / accumulation group size)
            every grad_accum_steps batches: clip, optimizer step, zero grads, per-step
                schedule, on_batch_end(step, loss, lr); every eval_every steps: evaluate
            stop at `steps`, or once a callback sets trainer.should_stop
        on_epoch_end(epoch) -> per-epoch schedule -> evaluate (when eval_every is not set)
    evaluate once more if steps were taken since the last evaluation
    on_fit_end(last row)

    evaluate: validation (no grad) -> row {epoch, step, train_*, val_*, lr, train_time_s, time_s}
              -> plateau schedule -> history -> on_eval(row) -> one log line

`train_*` in a row are means over the batches since the previous evaluation. Training time
(`trainer.train_time_s`) counts the passes only, not evaluations or what callbacks do at
them (checkpoints, plots); `clock="cpu"` uses process CPU time / torch threads instead, for
benchmarks on shared machines. A non-finite loss stops training with `TrainingDiverged`
naming the epoch, batch and step; on CUDA the check runs every `check_every` steps (32), since
reading a loss waits for the GPU. Checkpoints (see checkpoint.py) are taken at evaluations and
resume exactly, also in the middle of a pass. Everything else is a callback (callbacks.py).
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from dlcc.errors import ConfigError, TrainingDiverged
from dlcc.train.callbacks import Callback
from dlcc.train.checkpoint import FORMAT, VERSION, Checkpointer, capture_rng_state, restore_rng_state
from dlcc.train import distributed as dist
from dlcc.train import sharding
from dlcc.train.evaluate import DEFAULT_METRICS, Metric, autocast_context, evaluate, evaluate_sums, to_device

AMP_CHOICES = ("auto", "off", "bf16", "fp16")
CLOCKS = ("wall", "cpu")


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


def _cpu_seconds() -> float:
    """Process CPU time / torch threads: about the wall time on an idle machine, and an estimate
    of it on a shared one."""
    return time.process_time() / max(1, torch.get_num_threads())


def _generator(loader) -> torch.Generator | None:
    generator = getattr(loader, "generator", None)
    return generator if isinstance(generator, torch.Generator) else None


class Trainer:
    """Trains `model` with `optimizer` on `loss_fn(outputs, targets)` (a mean over the batch).

    Args:
        scheduler: a torch LR scheduler, stepped per pass or per optimizer step according to
            `scheduler_interval` ("epoch" | "step"); ReduceLROnPlateau is stepped at each
            evaluation with its val_loss.
        callbacks: `Callback` objects, called in order.
        device: "auto", "cpu", "cuda", a torch.device...; the model is moved there.
        grad_accum_steps: micro-batches per optimizer step. Each micro-batch loss is divided by
            the number of micro-batches in its group, so k batches of size b give the gradient
            of one batch of size k*b (the last group of a pass may be shorter).
        clip_grad_norm: clip the global gradient norm to this value before each step (None: off).
        amp: "auto" | "off" | "bf16" | "fp16" - mixed precision on CUDA only (fp16 uses a GradScaler).
        metrics: name -> fn(outputs, targets) -> batch mean; computed on train and val batches.
            Default {"accuracy": accuracy}; pass {} for regression.
        progress: a tqdm bar of optimizer steps (only when stderr is a terminal).
        config: a JSON-able dict saved in checkpoints; a resume with a different config is
            refused, except for the dotted keys in `config_extendable` (e.g. "train.epochs").
        out_dir: where callbacks write (checkpoints, plots); None for none.
        log: a function for one line per evaluation (e.g. print); None: silent.
        clock: "wall" or "cpu" (see the module docstring).
        check_every: optimizer steps between non-finite-loss checks (default 1; 32 on CUDA).
        step: a custom training step for loops that are not one loss and one optimizer (a GAN's
            discriminator and generator steps): `step(trainer, batch) -> {name: loss}` does its
            own forward, backward and optimizer steps and returns its losses, logged as
            train_<name>; `step.optimizers` ({name: optimizer}) are saved in checkpoints (pass
            optimizer=None). Each batch is one step. `trainer.autocast()` gives its autocast.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable, *,
                 scheduler=None, scheduler_interval: str = "epoch",
                 callbacks: Sequence[Callback] = (), device: str | torch.device = "auto",
                 grad_accum_steps: int = 1, clip_grad_norm: float | None = None, amp: str = "auto",
                 metrics: dict[str, Metric] | None = None, progress: bool = True,
                 config: dict | None = None, config_extendable: Sequence[str] = (),
                 out_dir: str | Path | None = None, log: Callable[[str], None] | None = None,
                 clock: str = "wall", check_every: int | None = None, step: Callable | None = None):
        if scheduler_interval not in ("epoch", "step"):
            raise ConfigError(f"scheduler_interval={scheduler_interval!r}; expected 'epoch' or 'step'",
                              fix="per-batch schedules (OneCycle, warm-up) use 'step'")
        if int(grad_accum_steps) < 1:
            raise ConfigError(f"grad_accum_steps must be >= 1, got {grad_accum_steps}", fix="e.g. 1 or 4")
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ConfigError(f"clip_grad_norm must be positive or None, got {clip_grad_norm}",
                              fix="e.g. clip_grad_norm=1.0")
        if clock not in CLOCKS:
            raise ConfigError(f"clock={clock!r} is not one of {', '.join(CLOCKS)}", fix="use clock='wall'")
        if step is not None:
            if int(grad_accum_steps) != 1 or clip_grad_norm is not None or scheduler is not None:
                raise ConfigError("a custom training step takes its own optimizer steps: grad_accum_steps, "
                                  "clip_grad_norm and scheduler do not apply to it",
                                  fix="do them inside the step, or schedule the LR with a ScheduleLR callback")
            if optimizer is None:
                from dlcc.train.optim import OptimizerGroup

                optimizer = OptimizerGroup(step.optimizers)
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
        self.config_extendable = tuple(config_extendable)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.log = log
        self.check_every = max(1, int(check_every or (32 if self.device.type == "cuda" else 1)))
        self._now = time.perf_counter if clock == "wall" else _cpu_seconds
        self.clock = clock
        self.step_fn = step

        self.epoch = 0                # passes started (1-based); 0 before training
        self.epochs: int | None = None
        self.steps: int | None = None
        self.eval_every: int | None = None
        self.global_step = 0          # optimizer steps taken
        self.history: list[dict[str, Any]] = []
        self.should_stop = False
        self.stop_reason: str | None = None
        self.train_loader = None
        self.val_loader = None
        self.batch_in_epoch = 0       # batches of the current pass consumed so far
        self.pass_complete = True     # False while inside a pass (also in a checkpoint taken there)
        self._epoch_loader_state: torch.Tensor | None = None   # loader generator at the pass start
        self._resume_state: dict | None = None                 # random state to restore mid-pass
        self._train_time = 0.0
        self._segment_start: float | None = None
        self._last_eval_step = 0
        self._last_eval_time = time.perf_counter()
        self._period: dict[str, Any] = {}
        self._unchecked: list[tuple[torch.Tensor, int, int, int]] = []
        self._last_loss: float | None = None

    # ------------------------------------------------------------------------------ clock
    @property
    def train_time_s(self) -> float:
        """Seconds of training so far (passes only), also while a pass is running."""
        if self._segment_start is None:
            return self._train_time
        return self._train_time + self._now() - self._segment_start

    @contextmanager
    def paused(self):
        """Do not count the time inside this block as training (e.g. a test evaluation made by
        a callback in the middle of a pass)."""
        running = self._segment_start is not None
        if running:
            self._end_segment()
        try:
            yield
        finally:
            if running:
                self._start_segment()

    def _start_segment(self) -> None:
        self._segment_start = self._now()

    def _end_segment(self) -> None:
        if self._segment_start is None:
            return
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)   # count the GPU work queued by this segment
        self._train_time += self._now() - self._segment_start
        self._segment_start = None

    # --------------------------------------------------------------------------- progress
    def steps_per_epoch(self) -> int | None:
        """Optimizer steps in one pass (None when the loader has no length)."""
        if not hasattr(self.train_loader, "__len__"):
            return None
        return math.ceil(len(self.train_loader) / self.grad_accum_steps)

    @property
    def max_steps(self) -> int | None:
        """The optimizer steps this fit will take when it is not stopped early (None: unknown)."""
        if self.steps is not None:
            return self.steps
        per_epoch = self.steps_per_epoch()
        if self.epochs is None or per_epoch is None:
            return None
        return self.epochs * per_epoch

    @property
    def time_budget_s(self) -> float | None:
        """The smallest time budget among the callbacks (e.g. `TimeBudget`), or None."""
        budgets = [b for cb in self.callbacks if (b := getattr(cb, "time_budget_s", None))]
        return min(budgets) if budgets else None

    def fraction_done(self, per_epoch: bool = False) -> float:
        """The share of training done, in [0, 1]: the larger of steps done / steps planned
        (whole epochs done / epochs with `per_epoch`) and training time / time budget."""
        p = 0.0
        per = self.steps_per_epoch()
        if per_epoch and self.epochs and per:
            p = (self.global_step // per) / self.epochs
        elif self.max_steps:
            p = self.global_step / self.max_steps
        budget = self.time_budget_s
        if budget:
            p = max(p, self.train_time_s / budget)
        return min(p, 1.0)

    def finished(self) -> bool:
        """True once training is over: steps or epochs done, or a callback stopped it."""
        if self.should_stop:
            return True
        if self.steps is not None and self.global_step >= self.steps:
            return True
        return self.epochs is not None and self.epoch >= self.epochs and self.pass_complete

    # ----------------------------------------------------------------------------- running
    def fit(self, train_loader: Iterable, val_loader: Iterable | None, epochs: int | None = None, *,
            steps: int | None = None, eval_every: int | None = None) -> list[dict]:
        """Train for `epochs` passes, or `steps` optimizer steps (counting those of a resumed
        run), evaluating after every pass or every `eval_every` steps. With neither `epochs`
        nor `steps`, a callback (e.g. a time budget) must stop training. Returns the history:
        one metrics dict per evaluation."""
        for name, value in (("epochs", epochs), ("steps", steps), ("eval_every", eval_every)):
            if value is not None and int(value) < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}", fix=f"e.g. --set train.{name}=10")
        if epochs is not None and steps is not None:
            raise ConfigError(f"train for epochs={epochs} or steps={steps}, not both",
                              fix="set one of train.epochs and train.steps to null")
        self.train_loader, self.val_loader = train_loader, val_loader
        self.epochs = None if epochs is None else int(epochs)
        self.steps = None if steps is None else int(steps)
        self.eval_every = None if eval_every is None else int(eval_every)
        self.should_stop, self.stop_reason = False, None
        self._call("on_fit_start")   # a Checkpointer with resume=True restores the state here
        self._period = self._new_period()
        self._last_eval_time = time.perf_counter()
        bar = tqdm(total=self.max_steps, initial=self.global_step, desc="training", unit="step",
                   disable=not _bars_enabled(self.progress), dynamic_ncols=True)
        try:
            while not self.finished():
                self._run_pass(bar)
            self._end_segment()
            if self.global_step > self._last_eval_step:
                self._record(self._evaluate())
        finally:
            self._end_segment()
            bar.close()
        if self.stop_reason and self.log:
            self.log(self.stop_reason)
        final = dict(self.history[-1]) if self.history else {}
        self._call("on_fit_end", final)
        return self.history

    def _run_pass(self, bar) -> None:
        """One pass over the training loader (or the rest of one, after a mid-pass resume)."""
        loader, skip = self.train_loader, 0
        if self.pass_complete:
            self.epoch += 1
            self.batch_in_epoch, self.pass_complete = 0, False
            generator = _generator(loader)
            self._epoch_loader_state = generator.get_state() if generator is not None else None
            self._call("on_epoch_start", self.epoch)
        else:   # resumed inside this pass: replay its order, skip what was trained on
            generator = _generator(loader)
            if generator is not None and self._epoch_loader_state is not None:
                generator.set_state(self._epoch_loader_state)
            skip = self.batch_in_epoch
        bar.set_description(f"epoch {self.epoch}" + ("" if self.epochs is None else f"/{self.epochs}"), refresh=False)
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        n_batches = len(loader) if hasattr(loader, "__len__") else None
        accum, group = self.grad_accum_steps, []
        iterator = iter(loader)
        for _ in range(skip):
            if next(iterator, None) is None:
                break
        if self._resume_state is not None:   # the random state exactly as at the checkpoint
            self._restore_random_state(self._resume_state)
            self._resume_state = None
        self._start_segment()
        # A pass is len(loader) batches: the iterator is not read to its end (torch's RandomSampler
        # draws once more there), so passes consume the loader's random stream the same way here
        # and under Lightning (train/lightning.py), which also stops at len(loader).
        batches = itertools.islice(iterator, n_batches - skip) if n_batches is not None else iterator
        for index, batch in enumerate(batches, start=skip):
            self.batch_in_epoch = index + 1
            if self.step_fn is not None:
                self._custom_step(batch, index)
                stepped = True
            else:
                group.append(self._train_batch(batch, index, n_batches, accum))
                group_start = (index // accum) * accum
                stepped = len(group) == (accum if n_batches is None else min(accum, n_batches - group_start))
                if stepped:
                    self._optimizer_step(group)
                    group = []
            if stepped:
                bar.update(1)
                if self._last_loss is not None and bar.n % 10 == 0:
                    bar.set_postfix(loss=f"{self._last_loss:.4g}", refresh=False)
                if self.eval_every and self.global_step % self.eval_every == 0:
                    self._end_segment()
                    self._record(self._evaluate())
                    self.model.train()
                    self._start_segment()
            if self.should_stop or (self.steps is not None and self.global_step >= self.steps):
                return
        if group:   # a loader without len() ended inside an accumulation group
            self._optimizer_step(group)
        self._end_segment()
        self.pass_complete = True
        self._call("on_epoch_end", self.epoch)
        if self.eval_every is None:
            row = self._evaluate()
            self._step_epoch_scheduler()
            self._record(row)
        else:
            self._step_epoch_scheduler()

    def autocast(self):
        """The autocast context of this run (mixed precision on CUDA, a no-op otherwise)."""
        return autocast_context(self.device, self.amp_dtype)

    def _train_batch(self, batch, index: int, n_batches: int | None, accum: int) -> torch.Tensor | float:
        """Forward and backward of one micro-batch; returns its loss (see `_note_loss`)."""
        inputs, targets = to_device(batch, self.device, non_blocking=self.device.type == "cuda")
        with self.autocast():
            outputs = self.model(inputs)
            loss = self.loss_fn(outputs, targets)
        # Divide by the size of this accumulation group so the summed gradient is the
        # gradient of the mean loss over the group, i.e. of one big batch.
        group_start = (index // accum) * accum
        group = accum if n_batches is None else min(accum, n_batches - group_start)
        scaled = loss / group
        (self.scaler.scale(scaled) if self.scaler else scaled).backward()
        n = len(targets)
        value = self._note_loss(loss.detach(), index)
        self._accumulate({"loss": value}, n)
        with torch.no_grad():   # metrics stay tensors: no device sync per batch
            out = outputs.detach().float()
            self._accumulate({name: fn(out, targets) for name, fn in self.metrics.items()}, n)
        self._period["seen"] += n
        return value

    def _custom_step(self, batch, index: int) -> None:
        """One step of a custom training step function (see the `step` argument)."""
        losses = self.step_fn(self, to_device(batch, self.device, non_blocking=self.device.type == "cuda"))
        if not isinstance(losses, dict) or not losses:
            raise ConfigError(f"the training step returned {type(losses).__name__}; it must return its losses "
                              "as {name: tensor}", fix="return e.g. {'d_loss': d_loss, 'g_loss': g_loss}")
        losses = {k: (v.detach().float().reshape(()) if torch.is_tensor(v) else torch.tensor(float(v)))
                  for k, v in losses.items()}
        total = self._note_loss(torch.stack(list(losses.values())).sum(), index)
        self._accumulate(losses, 1)
        self._period["seen"] += 1
        self._finish_step(total)

    def _note_loss(self, loss: torch.Tensor, index: int) -> torch.Tensor | float:
        """On CPU the loss as a float, checked for NaN/inf at once; on CUDA the tensor, checked
        every `check_every` steps (reading it would wait for the GPU)."""
        where = (self.epoch, index + 1, self.global_step + 1)
        if self.check_every == 1:
            value = loss.item()
            if dist.any_rank(not math.isfinite(value), self.device):   # every rank stops together
                raise _diverged(value, *where)
            self._last_loss = value
            return value
        self._unchecked.append((loss, *where))
        return loss

    def _accumulate(self, values: dict, weight: int) -> None:
        sums = self._period["sums"]
        for name, value in values.items():
            sums[name] = sums.get(name, 0.0) + value * weight

    def _check_losses(self) -> None:
        """Raise `TrainingDiverged` at the first non-finite loss not checked yet."""
        if not self._unchecked:
            return
        values = torch.stack([item[0].float() for item in self._unchecked]).cpu()
        finite = torch.isfinite(values)
        if dist.any_rank(not bool(finite.all()), self.device) and bool(finite.all()):
            self._unchecked = []
            raise TrainingDiverged("the training loss became non-finite in another process; training was stopped",
                                   fix="see that process's message above")
        if not bool(finite.all()):
            first = int((~finite).nonzero()[0])
            _, epoch, batch, step = self._unchecked[first]
            self._unchecked = []
            raise _diverged(float(values[first]), epoch, batch, step)
        self._last_loss = float(values[-1])
        self._unchecked = []

    def _optimizer_step(self, group: list) -> None:
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
        if all(isinstance(v, float) for v in group):
            self._finish_step(sum(group) / len(group))
        else:
            self._finish_step(group[0] if len(group) == 1 else torch.stack(group).mean())

    def _finish_step(self, step_loss: torch.Tensor | float) -> None:
        """Count the step, step a per-step scheduler, check losses when due, call on_batch_end."""
        self.global_step += 1
        lr = self._current_lr()  # the LR this step used
        if self.scheduler is not None and self.scheduler_interval == "step" and not self._is_plateau():
            self.scheduler.step()
        if not isinstance(step_loss, float) and self.global_step % self.check_every == 0:
            self._check_losses()
            step_loss = float(step_loss)
        self._call("on_batch_end", self.global_step, step_loss, lr)
        if dist.is_active():   # one rank's time budget or early stop stops them all, at the same step
            self.should_stop = dist.any_rank(self.should_stop, self.device)

    def _is_plateau(self) -> bool:
        return isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)

    def _step_epoch_scheduler(self) -> None:
        if self.scheduler is not None and self.scheduler_interval == "epoch" and not self._is_plateau():
            self.scheduler.step()

    def _new_period(self) -> dict[str, Any]:
        return {"seen": 0, "sums": {}}

    def _evaluate(self) -> dict[str, Any]:
        """The history row for this point: train means of the period, validation, lr, times."""
        self._check_losses()
        period, self._period = self._period, self._new_period()
        row: dict[str, Any] = {"epoch": self.epoch, "step": self.global_step}
        names = list(period["sums"])   # insertion order: the same on every rank (the same metrics)
        # with several processes: the sums and counts of every rank, so every rank sees the same row
        seen, *totals = dist.all_reduce_sum([period["seen"], *(float(period["sums"][n]) for n in names)], self.device)
        if seen:
            row.update({f"train_{name}": total / seen for name, total in zip(names, totals)})
        if self.val_loader is not None:
            sums, count = evaluate_sums(self.model, self.val_loader, self.loss_fn, self.device, self.metrics,
                                        self.amp_dtype)
            count, *values = dist.all_reduce_sum([count, *sums.values()], self.device)
            row.update({f"val_{name}": value / max(count, 1) for name, value in zip(sums, values)})
        row["lr"] = self._current_lr()
        row["train_time_s"] = self.train_time_s
        now = time.perf_counter()
        row["time_s"], self._last_eval_time = now - self._last_eval_time, now
        return row

    def _record(self, row: dict[str, Any]) -> None:
        if self._is_plateau():
            if "val_loss" not in row:
                raise ConfigError("ReduceLROnPlateau needs a validation loss but fit() got no val_loader",
                                  fix="pass a val_loader or choose another schedule")
            self.scheduler.step(row["val_loss"])
        self.history.append(row)
        self._last_eval_step = self.global_step
        self._call("on_eval", row)
        self._log_row(row)

    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """Loss and metrics of the current model over `loader` (no gradient)."""
        return evaluate(self.model, loader, self.loss_fn, self.device, self.metrics, self.amp_dtype)

    def _current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def _log_row(self, row: dict) -> None:
        if self.log is None:
            return
        where = f"epoch {row['epoch']}" + ("" if self.epochs is None else f"/{self.epochs}")
        if self.eval_every is not None or self.steps is not None:
            where += f"  step {row['step']}" + ("" if self.steps is None else f"/{self.steps}")
        parts = [where] + [f"{k} {v:.4f}" for k, v in row.items() if k.endswith(("loss", "accuracy", "dice"))]
        parts += [f"lr {row['lr']:.3g}", f"{row['time_s']:.1f}s"]
        line = "  ".join(parts)
        if _bars_enabled(self.progress):
            with tqdm.external_write_mode():  # lift the bar off the terminal while logging
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
        loaders = {name: (g.get_state() if (g := _generator(loader)) is not None else None)
                   for name, loader in (("train", self.train_loader), ("val", self.val_loader))}
        datasets = {name: dataset.state_dict() for name, dataset in self._stateful_datasets()}
        callbacks = {}
        for key, cb in self._callback_keys():
            state = cb.state_dict()
            if state is not None:
                callbacks[key] = state
        return {
            "format": FORMAT, "version": VERSION,
            "epoch": self.epoch, "global_step": self.global_step,
            "batch_in_epoch": self.batch_in_epoch, "pass_complete": self.pass_complete,
            "epoch_loader_state": self._epoch_loader_state, "train_time_s": self.train_time_s,
            "model": sharding.model_state(self.model),          # collective when sharded (FSDP)
            "optimizer": sharding.optimizer_state(self.model, self.optimizer),
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
        if self.config and state.get("config"):
            changed = _config_diff(state["config"], self.config, ignore=self.config_extendable)
            if changed:
                raise ConfigError(f"the checkpoint was written with different settings: {changed}",
                                  fix="resume with the same settings, or start a new run in a new --out")
        try:
            sharding.load_model_state(self.model, state["model"])
        except RuntimeError as exc:
            raise ConfigError(f"the checkpoint's weights do not fit this model: {str(exc)[:300]}",
                              fix="resume with the same model settings") from None
        sharding.load_optimizer_state(self.model, self.optimizer, state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        for key, cb in self._callback_keys():
            if key in state.get("callbacks", {}):
                cb.load_state_dict(state["callbacks"][key])
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        self.batch_in_epoch = int(state.get("batch_in_epoch", 0))
        self.pass_complete = bool(state.get("pass_complete", True))
        self._epoch_loader_state = state.get("epoch_loader_state")
        self._train_time = float(state.get("train_time_s", 0.0))
        self.history = [dict(h) for h in state["history"]]
        self._last_eval_step = int(self.history[-1].get("step", self.global_step)) if self.history else 0
        self.stop_reason = state.get("stop_reason")
        self.should_stop = self.stop_reason is not None
        if self.pass_complete:
            self._restore_random_state(state)
        else:   # the pass is replayed up to the checkpoint first (see _run_pass)
            self._resume_state = state

    def _restore_random_state(self, state: dict) -> None:
        for name, loader in (("train", self.train_loader), ("val", self.val_loader)):
            generator = _generator(loader)
            if generator is not None and state["loaders"].get(name) is not None:
                generator.set_state(state["loaders"][name])
        for name, dataset in self._stateful_datasets():
            if name in state.get("datasets", {}):
                dataset.load_state_dict(state["datasets"][name])
        restore_rng_state(state["rng"])


def _diverged(value: float, epoch: int, batch: int, step: int) -> TrainingDiverged:
    return TrainingDiverged(f"the training loss became {value} at epoch {epoch}, batch {batch} "
                            f"(optimizer step {step}); training was stopped",
                            fix="lower the learning rate, set train.clip_grad_norm (e.g. 1.0), or check the "
                                "inputs for NaN/inf values")


def _json_roundtrip(config: dict) -> dict:
    """A plain JSON copy of `config` (checkpoints must hold only weights-only-safe values)."""
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


def _config_diff(old: dict, new: dict, ignore: Sequence[str] = ()) -> str:
    a, b = _flatten(old), _flatten(new)
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in ignore)
    shown = ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys[:5])
    return shown + (f" (+{len(keys) - 5} more)" if len(keys) > 5 else "")


def fit(model: nn.Module, train_loader: Iterable, val_loader: Iterable | None, loss_fn: Callable,
        optimizer: torch.optim.Optimizer, epochs: int | None = None, *, steps: int | None = None,
        eval_every: int | None = None, scheduler=None, scheduler_interval: str = "epoch",
        callbacks: Sequence[Callback] = (), device: str | torch.device = "auto", grad_accum_steps: int = 1,
        clip_grad_norm: float | None = None, amp: str = "auto",
        metrics: dict[str, Metric] | None = None, out_dir: str | Path | None = None,
        checkpoint_every: int = 1, resume: bool = False, progress: bool = True,
        config: dict | None = None, config_extendable: Sequence[str] = (),
        log: Callable[[str], None] | None = None, clock: str = "wall", step: Callable | None = None) -> Trainer:
    """Train `model` and return the `Trainer` (its `history`, `model`, `global_step`, ...).

    With `out_dir`, a `Checkpointer` saves `out_dir/checkpoints/last.pt` every
    `checkpoint_every` evaluations, and `resume=True` continues from it. Other arguments: see
    `Trainer` and `Trainer.fit`.
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
                      metrics=metrics, progress=progress, config=config,
                      config_extendable=config_extendable, out_dir=out_dir, log=log, clock=clock, step=step)
    trainer.fit(train_loader, val_loader, epochs, steps=steps, eval_every=eval_every)
    return trainer
