"""`isbi-unet` on the CPU: mean Dice of the cell interior on the 5 held-out ISBI 2012 slices,
and the training time.

    python benchmarks/bench_isbi_unet.py [--set key=value ...]

Runs the recipe with its defaults (U-Net depth 4 / width 16, BCE + Dice, Adam + one-cycle,
random 256×256 patches of slices 0-22 with flips and 90° rotations, slices 23-24 for
validation, slices 25-29 held out for the test) and reports the Dice per test slice.
Writes benchmarks/results/isbi_unet.{md,json} and isbi_unet_predictions.png.

Target (issue 7): mean Dice >= 0.95 on the 5 held-out slices.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import LOAD_NOTE, loadavg, machine_info, machine_markdown  # noqa: E402

from dlcc.recipes.runner import run_recipe  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", action="append", default=[], help="extra overrides")
    parser.add_argument("--name", default="isbi_unet")
    args = parser.parse_args()

    load = {"start": loadavg()}
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlcc-bench-") as tmp:
        start = time.perf_counter()
        run_dir, m = run_recipe("isbi-unet", args.set, out=Path(tmp) / "run", progress=False, log=print)
        wall = time.perf_counter() - start
        shutil.copy(run_dir / "predictions.png", RESULTS / f"{args.name}_predictions.png")
    load["end"] = loadavg()
    ok = m["test_dice"] >= 0.95
    per = " | ".join(f"{k}: {v:.4f}" for k, v in m["test_dice_per_image"].items())
    text = "\n".join([
        "# `isbi-unet`: U-Net on ISBI 2012 EM slices, CPU",
        "",
        "Recipe defaults" + (f" plus {' '.join(args.set)}" if args.set else "") + ". Dice of the cell-interior "
        "class (label 1) at probability 0.5 on the 5 held-out slices 25-29, each predicted whole (512×512).",
        "",
        f"- mean Dice: **{m['test_dice']:.4f}** (target >= 0.95: **{'reached' if ok else 'NOT reached'}**); "
        f"mean IoU {m['test_iou']:.4f}",
        f"- per slice: {per}",
        f"- training time: **{m['train_time_s']:.0f} s** ({m['epochs_run']} epochs, {m['steps']} steps; validation "
        f"not counted); wall time of the whole run {wall:.0f} s",
        f"- best validation Dice {m.get('val_dice', float('nan')):.4f} at epoch {m.get('best_epoch')}; "
        f"parameters: {m['n_params']:,}",
        "",
        f"Figure: {args.name}_predictions.png (image | mask | probability | errors).",
        "",
        f"Load average (1, 5, 15 min): start {load['start']}, end {load['end']}. " + LOAD_NOTE,
        "",
        "Machine:",
        machine_markdown(),
        "",
    ])
    print("\n" + text)
    (RESULTS / f"{args.name}.md").write_text(text)
    (RESULTS / f"{args.name}.json").write_text(json.dumps({"overrides": args.set, "metrics": m, "wall_s": round(wall, 1),
                                                           "loadavg": load, "machine": machine_info()}, indent=2))


if __name__ == "__main__":
    main()
