"""`dlcc run RECIPE [--set key=value ...] [--out DIR] [--device ...]` and `dlcc run --list`."""

from __future__ import annotations

import json
import sys

import yaml

TRACKERS = ("none", "tb", "mlflow", "wandb", "jsonl")


def _list(as_json: bool) -> int:
    from dlcc.recipes import list_recipes

    recipes = list_recipes()
    if as_json:
        print(json.dumps({n: {"summary": r.summary, "data": r.data} for n, r in recipes.items()}, indent=2))
        return 0
    width = max(len(n) for n in recipes)
    for name, recipe in recipes.items():
        print(f"{name:<{width}}  {recipe.summary}  [data: {recipe.data}]")
    return 0


def run(args) -> int:
    if args.list:
        return _list(args.json)
    if not args.recipe:
        # `dlcc run --set epochs=3 RECIPE`: --set takes several values, so it swallowed the name
        names = [value for value in args.set if "=" not in value]
        if len(names) == 1:
            args.recipe = names[0]
            args.set = [value for value in args.set if "=" in value]
    if not args.recipe:
        print("dlcc run: name a recipe (see `dlcc run --list`)", file=sys.stderr)
        return 2
    if args.resume and not args.out:
        print("dlcc run: --resume needs --out DIR, the run directory to continue", file=sys.stderr)
        return 2
    from dlcc.recipes.config import apply_overrides
    from dlcc.recipes.registry import get_recipe
    from dlcc.recipes.runner import run_recipe

    if args.show:
        recipe = get_recipe(args.recipe)
        print(yaml.safe_dump(apply_overrides(recipe.defaults, args.set), sort_keys=False), end="")
        return 0
    progress = sys.stderr.isatty() and not args.no_progress
    out_dir, metrics = run_recipe(args.recipe, args.set, out=args.out, device=args.device,
                                  seed=args.seed, tracker=args.tracker, progress=progress,
                                  resume=args.resume)
    if args.json:
        print(json.dumps({"out_dir": str(out_dir), "metrics": metrics}, indent=2))
    else:
        print(f"\nrun directory: {out_dir}")
        for key, value in sorted(metrics.items()):
            shown = f"{value:.4f}" if isinstance(value, float) else value
            print(f"  {key:<22} {shown}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("run", help="run a named recipe (dlcc run --list)")
    p.add_argument("recipe", nargs="?", help="recipe name")
    p.add_argument("--list", action="store_true", help="list recipes and their data")
    p.add_argument("--show", action="store_true", help="print the merged config and exit")
    p.add_argument("--set", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override settings, e.g. --set epochs=5 batch_size=64 (repeatable)")
    p.add_argument("--out", metavar="DIR", help="run directory (default runs/<recipe>-<time>)")
    p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N, mps")
    p.add_argument("--seed", type=int, help="random seed (overrides the recipe's)")
    p.add_argument("--tracker", default="none", choices=TRACKERS, help="experiment tracker")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.set_defaults(func=run)
