"""Named, reproducible end-to-end runs: data + model + defaults, nothing else.

Every module in this package that defines a module-level `RECIPE` (a `Recipe`) is a recipe;
`dlcc run --list` shows them all. See `registry.py` for the contract.
"""

from dlcc.recipes.registry import Recipe, RunContext, get_recipe, list_recipes

__all__ = ["Recipe", "RunContext", "get_recipe", "list_recipes"]
