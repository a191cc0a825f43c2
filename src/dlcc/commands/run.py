"""`dlcc run RECIPE [--preset NAME] [--set key=value ...] [--out DIR] [--device ...]`,
`dlcc run RECIPE --show` and `dlcc run --list`."""

from __future__ import annotations

import json
import sys


def _list(as_json: bool) -> int:
    from dlcc.recipes import list_recipes

    recipes = list_recipes()
    if as_json:
        print(json.dumps({n: {"summary": r.summary, "data": r.data, "presets": list(r.presets)}
                          for n, r in recipes.items()}, indent=2))
        return 0
    width = max(len(n) for n in recipes)
    for name, recipe in recipes.items():
        print(f"{name:<{width}}  {recipe.summary}  [data: {recipe.data}]")
    return 0


def _show(args) -> int:
    from dlcc.config import render
    from dlcc.recipes.registry import get_recipe

    recipe = get_recipe(args.recipe)
    cfg = recipe.make_config(args.set, preset=args.preset, seed=args.seed)
    presets = f"  (presets: {', '.join(recipe.presets)})" if recipe.presets else ""
    print(f"# {recipe.name}: {recipe.summary}{presets}")
    print(render(cfg), end="")
    return 0


def run(args) -> int:
    from dlcc.errors import ConfigError

    if args.list:
        return _list(args.json)
    if not args.recipe:
        # `dlcc run --set train.epochs=3 RECIPE`: --set takes several values, so it swallowed the name
        names = [value for value in args.set if "=" not in value]
        if len(names) == 1:
            args.recipe = names[0]
            args.set = [value for value in args.set if "=" in value]
    if not args.recipe and not args.resume:
        raise ConfigError("name a recipe", fix="see `dlcc run --list`")
    if args.resume and not args.out:
        raise ConfigError("--resume needs --out DIR, the run directory to continue",
                          fix="dlcc run --resume --out runs/RUN")
    if args.show:
        return _show(args)
    from dlcc.recipes.launch import Topology
    from dlcc.recipes.runner import run_recipe
    from dlcc.train.distributed import launched

    progress = sys.stderr.isatty() and not args.no_progress
    topology = Topology(nproc=args.nproc, nnodes=args.nnodes, node_rank=args.node_rank, master=args.master)
    out_dir, metrics = run_recipe(args.recipe, args.set, out=args.out, device=args.device, seed=args.seed,
                                  tracker=args.tracker, progress=progress, resume=args.resume,
                                  preset=args.preset, engine=args.engine, topology=topology)
    if not metrics and (launched() or args.node_rank > 0):
        return 0   # a worker other than rank 0, or a node other than 0: rank 0 reports
    if args.json:
        print(json.dumps({"out_dir": str(out_dir), "metrics": metrics}, indent=2))
    else:
        print(f"\nrun directory: {out_dir}")
        for key, value in sorted(metrics.items()):
            if isinstance(value, (dict, list)):
                continue   # per-class and per-image tables stay in metrics.json
            shown = f"{value:.4f}" if isinstance(value, float) else value
            print(f"  {key:<22} {shown}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("run", help="run a named recipe (dlcc run --list)",
                       description="Run a named recipe. Settings come from the recipe's defaults, then "
                                   "--preset, then --set; `--show` lists every setting with its help.")
    p.add_argument("recipe", nargs="?", help="recipe name (with --resume: optional, the run directory names it)")
    p.add_argument("--list", action="store_true", help="list recipes and their data")
    p.add_argument("--show", action="store_true", help="print every setting with its value and help, and exit")
    p.add_argument("--preset", metavar="NAME", help="a named set of settings of the recipe (e.g. course)")
    p.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="change settings, e.g. --set train.epochs=5 train.batch_size=64 (repeatable)")
    p.add_argument("--out", metavar="DIR", help="run directory (default runs/<recipe>-<time>)")
    p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps")
    p.add_argument("--seed", type=int, help="random seed (sets the recipe's seed)")
    p.add_argument("--tracker", default="none",
                   help="experiment tracker: tb, mlflow, wandb, jsonl or none; several joined by commas (tb,jsonl)")
    p.add_argument("--engine", default="dlcc", help="dlcc (the default) or lightning (PyTorch Lightning; "
                                                     "pip install 'dlcc[lightning]')")
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="processes per node (one per GPU), started with torchrun; needs --out")
    p.add_argument("--nnodes", type=int, default=1, metavar="M", help="nodes taking part (see docs/scaling.md)")
    p.add_argument("--node-rank", type=int, default=0, metavar="R", help="this node's rank, 0 on the master node")
    p.add_argument("--master", metavar="ADDR:PORT", help="the rendezvous address of node 0 (several nodes)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint (--set may raise train.epochs/steps)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.set_defaults(func=run)
