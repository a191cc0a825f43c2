"""`dlcc sweep RECIPE --space FILE --trials N [--storage URL] [--study NAME] [--method ...] ...`

Hyper-parameter search over a recipe. Each trial runs the recipe with the trial's settings in
`OUT/trials/trial-NNNN/`; selection is on the validation metric named in the space file; the
best configuration is then re-run once with test evaluation (`OUT/best.json`).
Several workers (on several machines) share one study through `--storage postgresql+psycopg://...`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

METHODS = ("random", "grid", "tpe", "coarse-to-fine")
PRUNERS = ("none", "median", "hyperband", "sha")


def _validate_against_recipe(space, recipe, base_overrides: list[str]) -> None:
    """Every searched key must be a setting of the recipe, and every value must fit its type."""
    from dlcc.config.values import split_override
    from dlcc.errors import ConfigError
    from dlcc.tune.params import to_overrides

    recipe.make_config(base_overrides)  # the --set values themselves
    fixed_by_set = {split_override(text)[0] for text in base_overrides}
    for name, param in space.params.items():
        where = f"search space {space.source}" + (f" line {param.line}" if param.line else "")
        if name in fixed_by_set:
            raise ConfigError(f"{where}: parameter {name!r} is both searched and fixed by --set",
                              fix=f"drop --set {name}=... or remove {name} from the space")
        for value in param.extremes():
            try:
                recipe.make_config(base_overrides + to_overrides({name: value}))
            except ConfigError as exc:
                raise ConfigError(f"{where}: parameter {name!r} does not fit recipe {recipe.name!r}: "
                                  f"{exc.message}", fix=exc.fix or f"see `dlcc run {recipe.name} --show`") from None


def make_trial_runner(recipe, device: str, tracker: str, log):
    """`run_trial(overrides, out_dir, callbacks, evaluate_test) -> metrics` for `dlcc.tune`:
    one run of the recipe (as `dlcc run` makes it) with the trial's settings, the training-loop
    callbacks (the pruner), and without test metrics for trials (never written, never seen)."""
    from dlcc.recipes.runner import execute, new_run_dir
    from dlcc.utils.io import write_json

    def run_trial(overrides: list[str], out_dir: Path, callbacks: list, evaluate_test: bool) -> dict:
        cfg = recipe.make_config(overrides)
        out, _ = new_run_dir(recipe, cfg, out_dir, {"device": device, "tracker": tracker, "overrides": overrides})
        metrics = execute(recipe, cfg, out, device=device, tracker=tracker, progress=False, log=log,
                          callbacks=callbacks, evaluate_test=evaluate_test)
        write_json(out / "metrics.json", metrics)
        return metrics

    return run_trial


def run(args) -> int:
    from dlcc.errors import ConfigError
    from dlcc.recipes.registry import get_recipe
    from dlcc.tune.space import load_space
    from dlcc.tune.storage import normalize_url
    from dlcc.utils.rundir import make_run_dir

    if args.trials is None or args.trials <= 0:
        raise ConfigError(f"--trials must be a whole number >= 1, got {args.trials}", fix="e.g. --trials 20")
    if args.heartbeat < 1:
        raise ConfigError(f"--heartbeat must be >= 1 second, got {args.heartbeat}", fix="e.g. --heartbeat 10")
    from dlcc.recipes.runner import check_device_and_tracker

    recipe = get_recipe(args.recipe)
    check_device_and_tracker(args.device, args.tracker)
    space = load_space(args.space)
    _validate_against_recipe(space, recipe, args.set)
    method = args.method or space.method or "random"
    pruner = args.pruner or ("hyperband" if space.early_terminate else "none")
    storage = normalize_url(args.storage) if args.storage else None

    from dlcc.tune.sweep import SweepSettings, run_sweep

    out_path = Path(args.out) if args.out else None
    existed = out_path is not None and out_path.exists()
    resuming = existed and (out_path / "sweep.yaml").is_file()
    out_dir = make_run_dir(out_path, f"sweep-{recipe.name}", allow_existing=resuming)
    quiet = (lambda msg: None) if not args.verbose else (lambda msg: print(f"    {msg}", file=sys.stderr))
    settings = SweepSettings(recipe=recipe.name, space=space, n_trials=args.trials, out_dir=out_dir,
                             storage=storage, study_name=args.study, method=method, pruner=pruner,
                             base_overrides=list(args.set), seed=args.seed, heartbeat=args.heartbeat,
                             final=not args.no_final, log=print if not args.json else _stderr)
    runner = make_trial_runner(recipe, args.device, args.tracker, quiet)
    try:
        report = run_sweep(settings, runner)
    except ConfigError:
        if not existed and out_dir.is_dir() and not any(p.name != "study.db" for p in out_dir.iterdir()):
            for p in out_dir.iterdir():  # nothing happened: leave no empty sweep behind
                p.unlink()
            out_dir.rmdir()
        raise
    if args.json:
        print(json.dumps({"out_dir": str(out_dir), **report}, indent=2))
        return 0
    print(f"\nsweep directory: {out_dir}   (all trials: {out_dir / 'trials.csv'})")
    if report:
        best = report["best_trial"]
        print(f"best trial {best['number']}: {report['metric']} = {best['value']:.4f} (validation)")
        for key, value in best["params"].items():
            print(f"  {key:<24} {value}")
        for key, value in sorted(report["final_run"]["test"].items()):
            shown = f"{value:.4f}" if isinstance(value, float) else value
            print(f"test, evaluated once for this configuration: {key} = {shown}")
        print(f"written: {out_dir / 'best.json'}")
    return 0


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def register(sub) -> None:
    p = sub.add_parser("sweep", help="hyper-parameter search over a recipe (Optuna)",
                       description="Search a recipe's hyper-parameters, selecting on a validation metric; "
                                   "the best configuration is re-run once on the test split (best.json). "
                                   "See docs/tuning.md.")
    p.add_argument("recipe", help="recipe name (see `dlcc run --list`)")
    p.add_argument("--space", required=True, metavar="FILE", help="search space YAML (dlcc or wandb style)")
    p.add_argument("--trials", type=int, required=True, metavar="N",
                   help="finished trials the study should reach (shared by all workers of the study)")
    p.add_argument("--storage", metavar="URL", help="study database (default: sqlite in the sweep directory); "
                   "postgresql+psycopg://USER@HOST:PORT/DB lets several workers share one study")
    p.add_argument("--study", metavar="NAME", help="study name (default: the recipe name)")
    p.add_argument("--method", choices=METHODS, help="search method (default: the space's method, else random)")
    p.add_argument("--pruner", choices=PRUNERS,
                   help="stop poor trials early, per epoch (default: none, or hyperband for a wandb early_terminate)")
    p.add_argument("--out", metavar="DIR", help="sweep directory (default runs/sweep-<recipe>-<time>); "
                   "an existing sweep directory is resumed")
    p.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="fix a setting for every trial, e.g. --set train.epochs=5 (repeatable)")
    p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps")
    p.add_argument("--tracker", default="none", help="tracker for each trial: tb, mlflow, wandb, jsonl, none")
    p.add_argument("--seed", type=int, help="sampler seed (a reproducible single-worker search; "
                   "leave unset with several workers)")
    p.add_argument("--heartbeat", type=int, default=10, metavar="S",
                   help="seconds between trial heartbeats; a dead worker's trial fails after 2xS (default 10)")
    p.add_argument("--no-final", action="store_true",
                   help="skip re-running the best configuration on the test split (e.g. on extra workers)")
    p.add_argument("--verbose", action="store_true", help="show each trial's own log lines")
    p.add_argument("--json", action="store_true", help="print best.json as JSON")
    p.set_defaults(func=run)
