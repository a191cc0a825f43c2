"""Run a recipe: merge config, make the run directory, seed, time, write config and metrics."""

from __future__ import annotations

import math
import time
from pathlib import Path

from dlcc.recipes.config import apply_overrides
from dlcc.recipes.registry import RunContext, get_recipe
from dlcc.utils.io import read_yaml, write_json, write_yaml
from dlcc.utils.rundir import make_run_dir
from dlcc.utils.seed import seed_everything


def run_recipe(name: str, overrides: list[str] | None = None, out: str | Path | None = None,
               device: str = "auto", seed: int | None = None, tracker: str = "none",
               progress: bool = True, resume: bool = False, log=print) -> tuple[Path, dict]:
    """Run recipe `name` and return (run directory, metrics).

    Writes `config.yaml` before training (so a crashed run still says what it was) and
    `metrics.json` after. `seed` overrides the recipe's `seed` default when given.
    """
    recipe = get_recipe(name)
    cfg = apply_overrides(recipe.defaults, overrides or [])
    if seed is not None:
        cfg["seed"] = seed
    cfg.setdefault("seed", 0)
    if resume and out is not None and (Path(out) / "config.yaml").exists():
        cfg = read_yaml(Path(out) / "config.yaml")["config"]
    out_dir = make_run_dir(out, recipe.name, allow_existing=resume)
    write_yaml(out_dir / "config.yaml", {"recipe": recipe.name, "device": device,
                                         "tracker": tracker, "config": cfg})
    seed_everything(int(cfg["seed"]))
    ctx = RunContext(out_dir=out_dir, device=device, seed=int(cfg["seed"]), tracker=tracker,
                     progress=progress, resume=resume, log=log)
    start = time.perf_counter()
    metrics = dict(recipe.run(cfg, ctx) or {})
    metrics.setdefault("train_time_s", round(time.perf_counter() - start, 3))
    metrics = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
               for k, v in metrics.items()}
    write_json(out_dir / "metrics.json", metrics)
    return out_dir, metrics
