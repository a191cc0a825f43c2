"""`dlcc slurm RECIPE --out DIR [...]` and `dlcc slurm sweep RECIPE --space FILE --storage URL [...]`:
write a Slurm batch script (checked before it is written), then `sbatch` it."""

from __future__ import annotations

import sys
from pathlib import Path


def run(args) -> int:
    from dlcc.cluster.slurm import Resources, run_script, sweep_script
    from dlcc.errors import ConfigError
    from dlcc.recipes.registry import get_recipe
    from dlcc.tune.space import load_space

    sweep = args.target == "sweep"
    name = args.recipe if sweep else args.target
    if not name:
        raise ConfigError("name a recipe", fix="dlcc slurm RECIPE --out DIR, or dlcc slurm sweep RECIPE --space FILE ...")
    if args.recipe and not sweep:
        raise ConfigError(f"unexpected {args.recipe!r} after the recipe name", fix="dlcc slurm RECIPE --out DIR [--set ...]")
    recipe = get_recipe(name)
    if not recipe.distributed:
        raise ConfigError(f"recipe {recipe.name!r} cannot train on several processes",
                          fix="run it directly with `dlcc run`")
    recipe.make_config(args.set)                      # every --set value checked now, not on the cluster
    res = Resources(nodes=args.nodes, gpus_per_node=args.gpus_per_node, procs_per_node=args.procs_per_node,
                    cpus_per_task=args.cpus_per_task, mem=args.mem, time=args.time, partition=args.partition,
                    account=args.account, extra=list(args.sbatch or []))
    out = Path(args.out)
    if sweep:
        if not args.space or not args.storage:
            raise ConfigError("dlcc slurm sweep needs --space FILE and --storage URL",
                              fix="e.g. --space space.yaml --storage postgresql+psycopg://me@db:5432/optuna")
        load_space(args.space)
        text = sweep_script(recipe.name, args.space, args.storage, args.study or recipe.name, args.trials,
                            args.workers, str(out), args.set, res, args.device)
        script = Path(args.script) if args.script else out / "sweep.sbatch"
    else:
        if out.exists() and any(out.iterdir()) and not (out / "config.yaml").is_file():
            raise ConfigError(f"--out {out} already holds files that are not a dlcc run",
                              fix="pass a new directory (or an existing run directory, which the job resumes)")
        text = run_script(recipe.name, str(out), args.set, res, args.device)
        script = Path(args.script) if args.script else out.with_name(out.name + ".sbatch")
    if script.exists() and not args.force:
        raise ConfigError(f"{script} already exists; dlcc will not overwrite it", fix="pass --force, or --script NEW_FILE")
    script.parent.mkdir(parents=True, exist_ok=True)
    if sweep:
        out.mkdir(parents=True, exist_ok=True)        # Slurm writes the tasks' logs there
    script.write_text(text, encoding="utf-8")
    print(f"wrote {script}\nsubmit it with: sbatch {script}", file=sys.stdout)
    return 0


def register(sub) -> None:
    p = sub.add_parser("slurm", help="write a Slurm batch script for a run or a sweep",
                       description="Write an sbatch script: `dlcc slurm RECIPE --out DIR` (torchrun on every node, "
                                   "requeue and resume on preemption) or `dlcc slurm sweep RECIPE --space FILE "
                                   "--storage URL` (an array job of Optuna workers). See docs/scaling.md.")
    p.add_argument("target", help="a recipe, or `sweep`")
    p.add_argument("recipe", nargs="?", help="with `sweep`: the recipe")
    p.add_argument("--out", required=True, metavar="DIR", help="the run (or sweep) directory on the cluster")
    p.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE", help="recipe settings")
    p.add_argument("--device", default="auto", help="auto, cuda or cpu")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--gpus-per-node", type=int, default=0, help="GPUs per node (one process each); 0: CPU processes")
    p.add_argument("--procs-per-node", type=int, default=1, help="without GPUs: processes per node")
    p.add_argument("--cpus-per-task", type=int, default=8)
    p.add_argument("--mem", help="memory per node, e.g. 64G")
    p.add_argument("--time", default="04:00:00", help="time limit, e.g. 04:00:00 or 1-00:00:00")
    p.add_argument("--partition")
    p.add_argument("--account")
    p.add_argument("--sbatch", action="append", metavar="OPTION", help="another #SBATCH line, e.g. --sbatch=--qos=long")
    p.add_argument("--space", help="sweep: the search space file")
    p.add_argument("--storage", help="sweep: the study database, postgresql+psycopg://USER@HOST:PORT/DB")
    p.add_argument("--study", help="sweep: the study name (default: the recipe)")
    p.add_argument("--trials", type=int, default=32, help="sweep: finished trials the study should reach")
    p.add_argument("--workers", type=int, default=4, help="sweep: array tasks (Optuna workers)")
    p.add_argument("--script", metavar="FILE", help="where to write the script (default: DIR.sbatch, or DIR/sweep.sbatch)")
    p.add_argument("--force", action="store_true", help="overwrite an existing script")
    p.set_defaults(func=run)
