"""The one run helper: everything a training run does around a model, its data and its loss.

A recipe builds a `Task` (model, loaders, loss, metrics) and says how to evaluate the result;
`train_and_report` does the rest, the same way for every recipe:

    device -> optimizer (and parameter groups) -> torch.compile -> schedule -> time budget ->
    selection on validation (best weights) / early stopping -> tracker -> fit (resumable) ->
    model.pt, history.json, curves.png -> validate(model) -> test(model) once -> metrics,
    figures to the tracker, tracker closed (also when something fails)

    def run(cfg, ctx):
        loaders = ...
        task = Task(model, loaders["train"], loaders["val"], nn.CrossEntropyLoss())
        return train_and_report(task, cfg.train, ctx, test=lambda model, info: evaluate_on_test(model))

Protocol: the kept weights are selected on validation only (`train.select`, or the last ones);
`test` is called once, at the end, with the kept weights, and only when `ctx.evaluate_test`
(a tuner's trials skip it). `validate` may compute more validation figures (e.g. choose a
detection threshold) before `test` sees them in `info`.

Metrics it reports (metrics.json): n_params, train_time_s (training only), fit_time_s (with
evaluations; fit_cpu_time_s the process CPU time of it), compile_time_s, epochs_run, steps, evaluations, best_epoch, best_step,
train_loss / train_<metric> (the last evaluation), val_loss / val_<metric> (the kept
weights' evaluation), stop_reason, and whatever `validate` and `test` return.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from dlcc.errors import ConfigError
from dlcc.train.budget import TimeBudget
from dlcc.train.callbacks import BestModel, Callback, EarlyStopping
from dlcc.train.checkpoint import capture_rng_state, restore_rng_state, save_checkpoint
from dlcc.train.config import TrainConfig
from dlcc.train.context import RunContext
from dlcc.train.evaluate import DEFAULT_METRICS, Metric, autocast_context, to_device
from dlcc.train.loop import _generator, fit, resolve_amp
from dlcc.train.lr_shapes import ScheduleLR
from dlcc.train.optim import OptimizerGroup, make_optimizer
from dlcc.utils.io import to_builtin, write_json
from dlcc.utils.plots import plot_history

EXTENDABLE = ("train.epochs", "train.steps")   # may grow on --resume (checked by the runner)
MODEL_FORMAT = "dlcc-model"


@dataclass
class Task:
    """What a recipe hands the run helper.

    Args:
        model: the network (moved to the run's device here).
        train, val: loaders of `(inputs, targets)` batches (`val` may be None: no selection).
        loss: `loss(outputs, targets) -> scalar` (a mean over the batch).
        metrics: name -> batch metric, computed on train and validation batches.
        param_groups: optimizer parameter groups (e.g. no weight decay for norms); None: all
            parameters in one group.
        callbacks: the recipe's own training callbacks (they run first).
        artifacts: what `load_run` needs besides weights - label names, preprocessing, a
            chosen threshold (a recipe may add to it in `validate`); saved in model.pt.
        save_module: the module whose weights model.pt keeps (default: `model`), e.g. the
            network inside a training-only wrapper.
        step: a custom training step (see `Trainer`'s `step`), for loops that are not one loss
            and one optimizer (GANs); it brings its own `optimizers`, and `loss` may be None.
            Validation metrics then come from the task's callbacks (e.g. an `EvalMonitor`
            with key "val_fid"), which `train.select` may name.
        title: shown in logs and figure titles.
    """

    model: nn.Module
    train: Iterable
    val: Iterable | None
    loss: Callable
    metrics: dict[str, Metric] = field(default_factory=lambda: dict(DEFAULT_METRICS))
    param_groups: list[dict] | None = None
    callbacks: list[Callback] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    save_module: nn.Module | None = None
    step: Callable | None = None
    title: str = ""


@dataclass
class Result:
    """What training produced, by either engine."""

    model: nn.Module
    history: list[dict[str, Any]]
    best_row: dict[str, Any] | None       # the evaluation whose weights were kept (None: the last)
    steps: int
    epochs: int
    steps_per_epoch: int | None
    train_time_s: float
    fit_time_s: float
    compile_time_s: float | None = None
    stop_reason: str | None = None
    fit_cpu_time_s: float | None = None   # process CPU time of the fit (all threads)


Hook = Callable[[nn.Module, dict], dict]


def train_and_report(task: Task, cfg: TrainConfig, ctx: RunContext, *, validate: Hook | None = None,
                     test: Hook | None = None) -> dict[str, Any]:
    """Train `task` as `cfg` says, then evaluate it; returns the metrics for metrics.json.

    `validate(model, info)` and `test(model, info)` get the trained model (in eval mode, with
    the kept weights) and the metrics so far, and return more metrics.
    """
    from dlcc.utils.device import choose_device

    from dlcc.train import distributed

    device = choose_device(ctx.device)
    distributed.init(device)                  # only in a process torchrun started
    device = distributed.local_device(device)
    _set_determinism(cfg.deterministic)
    lightning = ctx.engine == "lightning"
    main = distributed.is_main()
    evaluated = None   # with FSDP: an unsharded copy that rank 0 evaluates and saves
    if cfg.parallel == "fsdp" and distributed.is_active() and not lightning:
        task, evaluated = _shard(task, task.model, device)   # before .to(device): only shards go there
    model = task.model.to(device)
    tracker = None if lightning or not main else ctx.open_tracker(ctx.name or task.title or None)
    try:
        result = _train_lightning(task, cfg, ctx, device) if lightning else _train(task, cfg, ctx, device, tracker)
        if evaluated is not None:
            from dlcc.train.sharding import model_state

            weights = model_state(model)   # collective: gathered on rank 0
            if main:
                evaluated.load_state_dict(weights)
                model = evaluated.to(device)
        if not main:   # rank 0 evaluates, writes and reports; the others are done
            return {}
        x = "step" if cfg.eval_every else "epoch"
        plot_history(result.history, ctx.out_dir / "curves.png", title=task.title or ctx.name, x=x)
        write_json(ctx.out_dir / "history.json", result.history)
        metrics = _standard_metrics(result, cfg)
        model.eval()
        if validate is not None:
            metrics.update(validate(model, dict(metrics)) or {})
        if test is not None and ctx.evaluate_test:
            metrics.update(test(model, dict(metrics)) or {})
        save_model(ctx.out_dir / "model.pt", model if evaluated is not None else task.save_module or model,
                   task.artifacts)
        if tracker is not None:
            tracker.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))
                                 and not isinstance(v, bool)}, result.steps)
            for png in sorted(ctx.out_dir.glob("*.png")):
                tracker.log_figure(png.stem, png, result.steps)
    finally:
        if tracker is not None:
            tracker.close()
    return metrics


def _train(task: Task, cfg: TrainConfig, ctx: RunContext, device: torch.device, tracker) -> Result:
    model = task.model
    if task.step is not None:
        _check_custom_step(cfg)
        optimizer = OptimizerGroup(task.step.optimizers)
    else:
        optimizer = make_optimizer(task.param_groups if task.param_groups is not None else model.parameters(), cfg)
    if cfg.lr_find:
        _lr_find(task, cfg, ctx, device, optimizer)
    compile_time = _compile(model, task, cfg, device, ctx) if _should_compile(cfg, device, task) else None
    train_loader, val_loader, train_model = _distribute(task, model, device, cfg)

    callbacks: list[Callback] = list(task.callbacks)
    budget = TimeBudget(cfg.time_budget_s) if cfg.time_budget_s else None
    scheduler, interval, schedule = _schedule(cfg, optimizer, train_loader)
    callbacks += [c for c in (budget, schedule) if c is not None]
    best = None
    if cfg.select != "last":
        if task.val is None and task.step is None:
            raise ConfigError(f"train.select={cfg.select} needs a validation split, and this run has none",
                              fix="--set train.select=last (or give the run a validation split)")
        best = BestModel(cfg.select, cfg.select_direction)
        callbacks.append(best)
        if cfg.patience:
            callbacks.append(EarlyStopping(cfg.select, cfg.patience, cfg.min_delta, cfg.select_direction))
    if tracker is not None:
        from dlcc.track import TrackerCallback

        callbacks.append(TrackerCallback(tracker, log_params=False))
    callbacks += ctx.callbacks
    _check_select(cfg, task)
    n_params = sum(p.numel() for p in model.parameters())
    length = (f"{cfg.epochs} epochs" if cfg.epochs else f"{cfg.steps} steps" if cfg.steps else "")
    if cfg.time_budget_s:
        length += (" or " if length else "") + f"{cfg.time_budget_s:g} s of training"
    ctx.log(f"{task.title or ctx.name}: {n_params:,} parameters on {device}; {length}"
            + (f", {len(train_loader)} batches of {cfg.batch_size} per epoch" if hasattr(train_loader, "__len__") else ""))
    start, cpu_start = time.perf_counter(), time.process_time()
    trainer = fit(train_model, train_loader, val_loader, task.loss, optimizer, cfg.epochs, steps=cfg.steps,
                  eval_every=cfg.eval_every, scheduler=scheduler, scheduler_interval=interval,
                  callbacks=callbacks, device=device, grad_accum_steps=cfg.grad_accum_steps,
                  clip_grad_norm=cfg.clip_grad_norm, amp=cfg.amp, metrics=task.metrics,
                  out_dir=ctx.out_dir, checkpoint_every=cfg.checkpoint_every, resume=ctx.resume,
                  progress=ctx.progress, config=ctx.config, config_extendable=EXTENDABLE,
                  log=ctx.log, clock=cfg.clock, step=task.step)
    fit_time, fit_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return Result(model, trainer.history, best.best_row if best is not None and best.best_row else None,
                  trainer.global_step, trainer.epoch, trainer.steps_per_epoch(), trainer.train_time_s, fit_time,
                  compile_time, trainer.stop_reason, fit_cpu)


def _shard(task: Task, model: nn.Module, device: torch.device) -> tuple[Task, nn.Module]:
    """FSDP (`train.parallel=fsdp`): shard the model in place; returns the task with its
    parameter groups on the sharded parameters, and an unsharded copy for evaluation."""
    from dlcc.train.sharding import shard

    if task.step is not None or (task.save_module is not None and task.save_module is not task.model):
        raise ConfigError(f"train.parallel=fsdp: {task.title or 'this recipe'} wraps its network for training, "
                          "which FSDP does not shard", fix="--set train.parallel=ddp")
    evaluated, groups = shard(model, task.param_groups, task.title or "this recipe", device)
    return dataclasses.replace(task, param_groups=groups, save_module=None), evaluated


def _distribute(task: Task, model: nn.Module, device: torch.device, cfg: TrainConfig):
    """(train loader, val loader, model to train): as they are in one process; with several, each
    rank's share of the batches and the model in DistributedDataParallel (distributed.py)."""
    from dlcc.train import distributed

    if not distributed.is_active():
        return task.train, task.val, model
    if cfg.sync_batchnorm:
        if device.type != "cuda":
            raise ConfigError("train.sync_batchnorm needs GPUs: torch's SyncBatchNorm runs on CUDA only",
                              fix="--set train.sync_batchnorm=false on CPUs (each process then normalises its own batch)")
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    if task.step is not None:
        raise ConfigError("this recipe trains with its own training step, which does not run on several processes yet",
                          fix="run it in one process (leave out --nproc)")
    rank, world = distributed.rank(), distributed.world_size()
    train = distributed.ShardedBatches(task.train, rank, world)
    val = distributed.ShardedBatches(task.val, rank, world, drop_remainder=False) if task.val is not None else None
    if cfg.parallel == "fsdp":
        return train, val, model   # already sharded (_shard): FSDP reduces the gradients itself
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    return train, val, ddp


def _train_lightning(task: Task, cfg: TrainConfig, ctx: RunContext, device: torch.device) -> Result:
    """The same run trained by PyTorch Lightning (`--engine lightning`, see lightning.py)."""
    if task.step is not None:
        raise ConfigError("this recipe trains with its own training step, which Lightning cannot run",
                          fix="use the dlcc engine (leave out --engine lightning)")
    if task.callbacks or ctx.callbacks:
        names = ", ".join(sorted({type(c).__name__ for c in [*task.callbacks, *ctx.callbacks]}))
        raise ConfigError(f"this run needs dlcc training callbacks ({names}) that Lightning cannot run",
                          fix="use the dlcc engine (leave out --engine lightning)")
    if ctx.resume:
        raise ConfigError("--resume is not supported with --engine lightning", fix="use the dlcc engine to resume")
    from dlcc.train.lightning import fit_lightning

    compile_time = _compile(task.model, task, cfg, device, ctx) if _should_compile(cfg, device, task) else None
    out = fit_lightning(task.model, task.train, task.val, task.loss, cfg, device=device, out_dir=ctx.out_dir,
                        metrics=task.metrics, param_groups=task.param_groups, tracker=ctx.tracker,
                        name=ctx.name or task.title, progress=ctx.progress, log=ctx.log)
    per_epoch = -(-len(task.train) // cfg.grad_accum_steps) if hasattr(task.train, "__len__") else None
    return Result(task.model, out["history"], out["best"], out["steps"], out["epochs"], per_epoch,
                  out["fit_time_s"], out["fit_time_s"], compile_time, out["stop_reason"])


def _set_determinism(deterministic: bool) -> None:
    """Deterministic kernels, or cuDNN autotuning (faster convolutions on GPUs, not repeatable)."""
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    torch.use_deterministic_algorithms(deterministic, warn_only=True)


def _check_custom_step(cfg: TrainConfig) -> None:
    """The settings a custom training step does itself cannot also be set in train.*."""
    clashes = [f"train.{k}" for k, bad in (("grad_accum_steps", cfg.grad_accum_steps != 1),
                                           ("clip_grad_norm", cfg.clip_grad_norm is not None),
                                           ("schedule", cfg.schedule == "onecycle"), ("lr_find", cfg.lr_find)) if bad]
    if clashes:
        raise ConfigError(f"this recipe's training step takes its own optimizer steps: {', '.join(clashes)} "
                          "cannot apply to it", fix="leave them at their defaults")


def _check_select(cfg: TrainConfig, task: Task) -> None:
    if cfg.select == "last" or task.step is not None:   # a custom step's callbacks add val_* metrics
        return
    known = ["val_loss"] + [f"val_{name}" for name in task.metrics]
    if cfg.select not in known:
        raise ConfigError(f"train.select={cfg.select} is not a validation metric of this run",
                          fix=f"--set train.select= one of {', '.join(known)} (or last)")


def _schedule(cfg: TrainConfig, optimizer, train_loader):
    """(torch scheduler or None, its interval, a ScheduleLR callback or None)."""
    if cfg.schedule == "onecycle":
        steps = cfg.steps or cfg.epochs * -(-len(train_loader) // cfg.grad_accum_steps)
        final_div = cfg.start_factor / cfg.end_factor if cfg.end_factor else 1e4
        momentum = cfg.optimizer != "sgd" or cfg.momentum > 0   # OneCycleLR refuses SGD without momentum
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=steps,
            pct_start=cfg.pct_start, div_factor=1.0 / cfg.start_factor, final_div_factor=final_div,
            cycle_momentum=momentum, base_momentum=0.85, max_momentum=0.95)
        return scheduler, "step", None
    if cfg.schedule == "none":
        return None, "epoch", None
    shape = ScheduleLR(cfg.schedule, warmup_steps=cfg.warmup_steps, step_size=cfg.step_size, gamma=cfg.gamma,
                       pct_start=cfg.pct_start, start_factor=cfg.start_factor, end_factor=cfg.end_factor)
    return None, "epoch", shape


def _should_compile(cfg: TrainConfig, device: torch.device, task: Task) -> bool:
    """Compile the task's model (a custom step compiles what it wants itself)."""
    auto = device.type == "cuda" and cfg.parallel != "fsdp"   # FSDP's gathers are not compiled by default
    return task.step is None and (cfg.compile is True or (cfg.compile == "auto" and auto))


def _compile(model: nn.Module, task: Task, cfg: TrainConfig, device: torch.device, ctx: RunContext) -> float:
    """`model.compile()` in place, then one throw-away training step and one evaluation batch so
    that compiling happens here, timed apart from training; the weights and random state are
    put back. The warm-up batch comes from the validation loader when there is one (reading a
    training loader can move its epoch counter or its random order)."""
    model.compile()
    saved_model = copy.deepcopy(model.state_dict())
    saved_rng = capture_rng_state()
    source = task.val if task.val is not None else task.train
    generator = _generator(source)
    saved_gen = generator.get_state() if generator is not None else None
    saved_epoch = getattr(source, "epoch", None)
    amp = resolve_amp(cfg.amp, device)
    start = time.perf_counter()
    try:
        inputs, targets = to_device(next(iter(source)), device)
        if source is task.val and len(targets) >= cfg.batch_size:   # the training graph's batch size
            inputs, targets = inputs[: cfg.batch_size], targets[: cfg.batch_size]
        model.train()
        with autocast_context(device, amp):
            loss = task.loss(model(inputs), targets)
        loss.backward()
        model.zero_grad(set_to_none=True)
        if task.val is not None:
            model.eval()
            with torch.no_grad(), autocast_context(device, amp):
                model(to_device(next(iter(task.val)), device)[0])
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    finally:
        model.load_state_dict(saved_model)
        restore_rng_state(saved_rng)
        if generator is not None:
            generator.set_state(saved_gen)
        if saved_epoch is not None:
            source.epoch = saved_epoch
        model.train()
    seconds = time.perf_counter() - start
    ctx.log(f"torch.compile: {seconds:.1f} s (not counted as training time)")
    return seconds


def _lr_find(task: Task, cfg: TrainConfig, ctx: RunContext, device: torch.device, optimizer) -> None:
    """The LR range test; it informs and restores everything (the configured LR is kept)."""
    from dlcc.train.lr_finder import lr_find

    found = lr_find(task.model, task.train, task.loss, optimizer, device=device,
                    plot_path=ctx.out_dir / "lr_find.png")
    ctx.log(f"LR range test: steepest descent at lr={found.steepest_lr:.3g}, loss minimum at "
            f"{found.min_loss_lr:.3g} (plot: {found.plot_path})")


def _standard_metrics(result: Result, cfg: TrainConfig) -> dict[str, Any]:
    history = result.history
    last = history[-1] if history else {}
    chosen = result.best_row or last
    per_epoch = result.steps_per_epoch
    metrics: dict[str, Any] = {
        "n_params": sum(p.numel() for p in result.model.parameters()),
        "train_time_s": round(result.train_time_s, 3),
        "fit_time_s": round(result.fit_time_s, 3),
        "fit_cpu_time_s": None if result.fit_cpu_time_s is None else round(result.fit_cpu_time_s, 3),
        "epochs_run": result.epochs, "steps": result.steps, "evaluations": len(history),
        "epoch_time_s": (round(result.train_time_s * per_epoch / result.steps, 3)
                         if per_epoch and result.steps else None),
    }
    if result.compile_time_s is not None:
        metrics["compile_time_s"] = round(result.compile_time_s, 3)
    metrics.update({k: v for k, v in last.items() if k.startswith("train_") and k != "train_time_s"})
    metrics.update({k: v for k, v in chosen.items() if k.startswith("val_")})
    if result.best_row:
        metrics["best_epoch"], metrics["best_step"] = result.best_row["epoch"], result.best_row["step"]
    metrics["selected_on"] = cfg.select
    if result.stop_reason:
        metrics["stop_reason"] = result.stop_reason
    return metrics


def save_model(path, model: nn.Module, artifacts: dict[str, Any]) -> None:
    """model.pt: the kept weights and what `load_run` needs besides them (weights-only-safe)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    state = {k.replace("_orig_mod.", ""): v for k, v in state.items()}   # a compiled model's keys
    save_checkpoint(path, {"format": MODEL_FORMAT, "model": state, "artifacts": to_builtin(artifacts)})
