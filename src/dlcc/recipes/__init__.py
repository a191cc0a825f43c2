"""Named, reproducible end-to-end runs: data + model + defaults + their own evaluation, nothing else.

Every module in this package that defines a module-level `RECIPE` (or `RECIPES`) is a recipe;
`dlcc run --list` shows them all. See `registry.py` for the contract, `runner.py` for how a
run is made or resumed, and `load.py` for opening a finished run (`load_run`).
"""

from dlcc.recipes.load import LoadedRun, load_run
from dlcc.recipes.registry import Recipe, RunContext, get_recipe, list_recipes

__all__ = ["LoadedRun", "Recipe", "RunContext", "get_recipe", "list_recipes", "load_run"]
