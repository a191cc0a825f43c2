"""Run a recipe: settle the config, make (or reopen) the run directory, seed, run, record.

New run:  defaults -> preset -> --set -> --seed -> validated (nothing is written before this)
          -> run directory (an existing non-empty one is refused) -> config.yaml -> run ->
          metrics.json. A run that fails before its first checkpoint leaves nothing behind, so
          the corrected command can use the same --out.
Resume:   DIR/config.yaml says which recipe and settings ran; --set may raise train.epochs or
          train.steps (when the schedule does not depend on the length of training); anything
          else that differs is refused with the list of keys, and DIR is left untouched.
Several processes (`--nproc`, launch.py): the launcher settles the config and makes the run
          directory, then starts torchrun; each worker reads the config from config.yaml (or,
          started by torchrun itself, e.g. in a Slurm job, rank 0 makes or reopens the directory
          and the others wait for it), and rank 0 writes metrics.json.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

from dlcc.config import diff, to_dict, validate
from dlcc.errors import ConfigError
from dlcc.recipes.launch import RUN_DIR, Topology, launch
from dlcc.recipes.load import CONFIG_FILE, load_recorded
from dlcc.recipes.registry import Recipe, RunContext, get_recipe
from dlcc.utils.io import write_json, write_yaml
from dlcc.utils.rundir import make_run_dir
from dlcc.utils.seed import seed_everything

CHECKPOINT = Path("checkpoints") / "last.pt"
ENGINES = ("dlcc", "lightning")


def run_recipe(name: str | None, overrides: list[str] | None = None, out: str | Path | None = None,
               device: str = "auto", seed: int | None = None, tracker: str = "none",
               progress: bool = True, resume: bool = False, preset: str | None = None,
               engine: str = "dlcc", topology: Topology | None = None, log=print) -> tuple[Path, dict]:
    """Run recipe `name` (on resume it may be None: the run directory names it) and return
    (run directory, metrics). `engine`: "dlcc" (dlcc.train's loop) or "lightning";
    `topology`: processes and nodes (see launch.py)."""
    from dlcc.train.distributed import launched

    check_device_and_tracker(device, tracker)
    overrides = list(overrides or [])
    topology = topology or Topology()
    topology.check_counts()
    if launched():
        return _run_as_worker(name, overrides, out, device, seed, tracker, progress, resume, preset, engine, log)
    if topology.distributed:
        return _launch(name, overrides, out, device, seed, tracker, resume, preset, engine, topology)
    if resume:
        recipe, cfg, out_dir = _reopen(name, overrides, out, preset, seed)
        check_engine(recipe, engine)
        metrics = execute(recipe, cfg, out_dir, device=device, tracker=tracker, progress=progress,
                          resume=True, engine=engine, log=log)
    else:
        recipe = get_recipe(name)
        check_engine(recipe, engine)
        cfg = recipe.make_config(overrides, preset=preset, seed=seed)
        out_dir, created = new_run_dir(recipe, cfg, out, {"preset": preset, "overrides": overrides,
                                                          "device": device, "tracker": tracker, "engine": engine})
        try:
            metrics = execute(recipe, cfg, out_dir, device=device, tracker=tracker, progress=progress,
                              engine=engine, log=log)
        except BaseException:
            _remove_if_nothing_to_resume(out_dir, created)
            raise
    write_json(out_dir / "metrics.json", metrics)
    return out_dir, metrics


def _launch(name, overrides, out, device, seed, tracker, resume, preset, engine, topology: Topology) -> tuple[Path, dict]:
    """Check and prepare the run on this node, then start it under torchrun (launch.py)."""
    if engine != "dlcc":
        raise ConfigError("--engine lightning trains one process; several processes use the dlcc engine",
                          fix="leave out --engine, or use Lightning's own strategies from Python")
    if out is None:
        raise ConfigError("--nproc/--nnodes need --out DIR: every process (and node) must find the same run directory",
                          fix="add --out runs/NAME (on a cluster: a folder every node sees)")
    node0, created = topology.node_rank == 0, False
    if resume and node0:
        recipe, cfg, out_dir = _reopen(name, overrides, out, preset, seed)
    elif resume:
        recipe, out_dir = get_recipe(name) if name else None, Path(out)
    else:
        recipe = get_recipe(name)
        cfg = recipe.make_config(overrides, preset=preset, seed=seed)
        out_dir = Path(out)
    if recipe is not None and not recipe.distributed:
        raise ConfigError(f"recipe {recipe.name!r} cannot train on several processes", fix="leave out --nproc")
    if not resume and node0:
        out_dir, created = new_run_dir(recipe, cfg, out, {"preset": preset, "overrides": overrides, "device": device,
                                                          "tracker": tracker, "nproc": topology.nproc,
                                                          "nnodes": topology.nnodes})
    argv = [*([recipe.name] if recipe is not None else []), "--out", str(out_dir), "--device", device,
            "--tracker", tracker, "--no-progress", *(["--resume"] if resume else [])]
    try:
        launch(argv, topology, out_dir if node0 else None)
    except BaseException:
        if created:
            _remove_if_nothing_to_resume(out_dir, created)
        raise
    metrics_file = out_dir / "metrics.json"
    return out_dir, (json.loads(metrics_file.read_text()) if node0 and metrics_file.is_file() else {})


def _run_as_worker(name, overrides, out, device, seed, tracker, progress, resume, preset, engine, log) -> tuple[Path, dict]:
    """One process of a multi-process run (torchrun started it): join the group, find the run
    directory, train; rank 0 writes metrics.json."""
    from dlcc.train import distributed
    from dlcc.utils.device import choose_device

    distributed.init(choose_device(device))
    main = distributed.is_main()
    prepared = os.environ.get(RUN_DIR)
    if prepared:
        out_dir = Path(prepared)
    else:   # torchrun started us directly (a Slurm job): rank 0 makes or reopens the directory
        if out is None:
            raise ConfigError("a run started by torchrun needs --out DIR", fix="add --out runs/NAME")
        out_dir = Path(out)
        if main:
            if resume:
                _reopen(name, overrides, out, preset, seed)
            else:
                recipe = get_recipe(name)
                cfg = recipe.make_config(overrides, preset=preset, seed=seed)
                new_run_dir(recipe, cfg, out, {"preset": preset, "overrides": overrides, "device": device,
                                               "tracker": tracker, "nproc": distributed.world_size()})
        distributed.barrier()
    recipe, cfg, _ = load_recorded(out_dir, "--resume" if resume else "")
    check_engine(recipe, engine)
    metrics = execute(recipe, cfg, out_dir, device=device, tracker=tracker if main else "none",
                      progress=progress and main, resume=resume, engine=engine, log=log if main else _quiet)
    if main:
        write_json(out_dir / "metrics.json", metrics)
    return out_dir, metrics if main else {}


def _quiet(line: str) -> None:
    """The log of ranks other than 0."""


def new_run_dir(recipe: Recipe, cfg: Any, out: str | Path | None, record: dict) -> tuple[Path, bool]:
    """Make the run directory (an existing non-empty one is refused) and write config.yaml;
    returns (directory, whether it was created here)."""
    out_path = Path(out) if out is not None else None
    created = out_path is None or not out_path.exists()
    out_dir = make_run_dir(out_path, recipe.name)
    write_yaml(out_dir / CONFIG_FILE, {"recipe": recipe.name, **record, "config": to_dict(cfg)})
    return out_dir, created


def check_device_and_tracker(device: str, tracker: str) -> None:
    """Refuse an unknown or missing device and an unknown tracker before anything is written."""
    from dlcc.track.factory import check_kind
    from dlcc.utils.device import choose_device

    choose_device(device)
    for kind in str(tracker or "none").split(","):
        check_kind(kind)


def check_engine(recipe: Recipe, engine: str) -> None:
    """Refuse an unknown engine, Lightning for a recipe it cannot train, or Lightning not installed."""
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}",
                          fix="--engine dlcc (the default) or --engine lightning")
    if engine != "lightning":
        return
    if not recipe.lightning:
        raise ConfigError(f"recipe {recipe.name!r} does not train a PyTorch model, so Lightning cannot run it",
                          fix="leave out --engine lightning")
    import importlib.util

    if importlib.util.find_spec("lightning") is None:
        raise ConfigError("--engine lightning needs the Python package 'lightning', which is not installed",
                          fix="pip install 'dlcc[lightning]'")


def execute(recipe: Recipe, cfg: Any, out_dir: Path, *, device: str = "auto", tracker: str = "none",
            progress: bool = True, resume: bool = False, log=print, callbacks: list | None = None,
            evaluate_test: bool = True, engine: str = "dlcc") -> dict:
    """Seed, run the recipe in `out_dir`, and return its metrics (without test_* ones when
    `evaluate_test` is False). `callbacks` go to the training loop (a tuner's pruner)."""
    seed_everything(cfg.seed)
    ctx = RunContext(out_dir=out_dir, device=device, seed=cfg.seed, tracker=tracker, progress=progress,
                     resume=resume, log=log, callbacks=list(callbacks or []), evaluate_test=evaluate_test,
                     config=to_dict(cfg), name=recipe.name, engine=engine)
    start = time.perf_counter()
    metrics = dict(recipe.run(cfg, ctx) or {})
    metrics.setdefault("train_time_s", round(time.perf_counter() - start, 3))
    if not evaluate_test:
        metrics = {k: v for k, v in metrics.items() if not k.startswith("test_")}
    return clean_metrics(metrics)


def clean_metrics(metrics: dict) -> dict:
    """NaN and infinities become null (metrics.json is strict JSON)."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}


def _remove_if_nothing_to_resume(out_dir: Path, created: bool) -> None:
    """After a failed new run: delete what it wrote unless a checkpoint makes it resumable."""
    if (out_dir / CHECKPOINT).exists():
        return
    if created:
        shutil.rmtree(out_dir, ignore_errors=True)
    else:   # the user's empty --out folder: remove our files only
        for path in out_dir.iterdir():
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def _reopen(name: str | None, overrides: list[str], out, preset: str | None, seed: int | None):
    if out is None:
        raise ConfigError("--resume needs --out DIR, the run directory to continue",
                          fix="dlcc run --resume --out runs/RUN")
    out_dir = Path(out)
    recipe, old, recorded = load_recorded(out_dir, "--resume")
    if name and name != recipe.name:
        raise ConfigError(f"{out_dir} holds a run of recipe {recipe.name!r}, not {name!r}; it was left as it is",
                          fix=f"dlcc run {recipe.name} --resume --out {out_dir}")
    if not recipe.resumable:
        raise ConfigError(f"recipe {recipe.name!r} writes no checkpoints, so it cannot be resumed",
                          fix="run it again in a new --out directory")
    if preset and preset != recorded.get("preset"):
        raise ConfigError(f"{out_dir} ran with preset {recorded.get('preset')!r}; a resume cannot change it",
                          fix="resume without --preset")
    new = validate(_with_overrides(old, overrides, seed))
    _check_changes(old, new, out_dir)
    if not (out_dir / CHECKPOINT).is_file():
        raise ConfigError(f"{out_dir} has no checkpoint ({CHECKPOINT}) to resume from: the run stopped "
                          "before its first evaluation", fix=f"start it again: remove {out_dir}, or use a new --out")
    if new != old:
        recorded["config"] = to_dict(new)
    stamp = _dt.datetime.now().isoformat(timespec="seconds")
    recorded.setdefault("resumed", []).append({"at": stamp, "overrides": overrides})
    write_yaml(out_dir / CONFIG_FILE, recorded)
    return recipe, new, out_dir


def _with_overrides(cfg: Any, overrides: list[str], seed: int | None) -> Any:
    from dlcc.config import apply_overrides, apply_values

    cfg = apply_overrides(cfg, overrides)
    return apply_values(cfg, {"seed": seed}) if seed is not None else cfg


def _check_changes(old: Any, new: Any, out_dir: Path) -> None:
    """Only more epochs or steps, and only for schedules that do not depend on the length."""
    from dlcc.train.config import LENGTH_DEPENDENT

    changes = diff(old, new)
    refused = [c for c in changes if c[0] not in ("train.epochs", "train.steps")]
    if refused:
        listed = ", ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in refused)
        raise ConfigError(f"a resume continues the run as it was configured; these settings differ: {listed}",
                          fix=f"resume without them, or start a new run in a new --out (keeping {out_dir})")
    for key, before, after in changes:
        if before is None or after is None or after < before:
            raise ConfigError(f"--resume may only raise {key} (from {before} to more), not set it to {after}",
                              fix=f"--set {key}=<more than {before}>")
        schedule = getattr(getattr(new, "train", None), "schedule", "none")
        if schedule in LENGTH_DEPENDENT:
            raise ConfigError(f"this run's train.schedule={schedule} was laid out for {key}={before}; "
                              f"extending it to {after} would bend the schedule mid-run",
                              fix="start a new run with the longer setting (or use schedule none or step)")
