"""`dlcc explain RUN_DIR IMAGE [--method saliency,smoothgrad,...] [--target CLASS] [--region T,L,B,R]
[--out DIR] [--force] [--json]`.

Attribution maps of a trained image classifier (for its predicted class, or `--target`) or of a
U-Net (for the mean mask logit inside `--region`, default: the predicted foreground), drawn
over the image: writes overlays.png, maps.npz (the raw maps) and explain.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dlcc.errors import InputError

DEFAULT_METHODS = "saliency,smoothgrad,integrated_gradients,gradcam,occlusion"


def register(sub) -> None:
    p = sub.add_parser("explain", help="attribution maps (saliency, SmoothGrad, integrated gradients, Grad-CAM, "
                                       "occlusion) of a trained image model, drawn over an image")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished image classifier or U-Net run")
    p.add_argument("image", metavar="IMAGE", help="an image file (png, jpg, tif)")
    p.add_argument("--method", default=DEFAULT_METHODS, help=f"methods, comma-separated (default: {DEFAULT_METHODS})")
    p.add_argument("--target", help="classifiers: the class to explain, by name or index (default: the prediction)")
    p.add_argument("--region", metavar="T,L,B,R", help="U-Nets: explain the mask inside this box (top, left, bottom, "
                                                        "right in pixels; default: the predicted foreground)")
    p.add_argument("--layer", help="Grad-CAM's layer, by module name (default: the last conv)")
    p.add_argument("--steps", type=int, default=50, help="integrated gradients: path points (default 50)")
    p.add_argument("--samples", type=int, default=25, help="SmoothGrad: noisy copies (default 25)")
    p.add_argument("--noise", type=float, default=0.15, help="SmoothGrad: noise std in pixel units (default 0.15)")
    p.add_argument("--window", type=int, help="occlusion: window side in pixels (default: image side / 8)")
    p.add_argument("--seed", type=int, default=0, help="SmoothGrad's noise seed")
    p.add_argument("--out", metavar="DIR", help="output folder (default RUN_DIR/explain-<image name>)")
    p.add_argument("--force", action="store_true", help="write into an output folder that already has files")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_explain)


def _methods(text: str) -> list[str]:
    from dlcc.interpret import METHODS

    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in METHODS]
    if unknown or not names:
        raise InputError(f"--method {text!r}: unknown method(s) {unknown or '(none given)'}",
                         fix=f"use some of {', '.join(METHODS)}")
    return names


def _target(text: str | None, classes: list[str], predicted: int) -> int:
    if text is None:
        return predicted
    if text in classes:
        return classes.index(text)
    if text.isdigit() and int(text) < len(classes):
        return int(text)
    raise InputError(f"--target {text!r} is not one of this run's classes",
                     fix=f"give a name or index: {', '.join(f'{i}={c}' for i, c in enumerate(classes))}")


def _region(text: str, height: int, width: int):
    from dlcc.interpret import box_region

    try:
        box = tuple(int(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise InputError(f"--region {text!r} is not four whole numbers top,left,bottom,right",
                         fix=f"e.g. --region 0,0,{height // 2},{width // 2}")
    return box_region(height, width, box)


def _check_options(args) -> None:
    for name, value, least in (("steps", args.steps, 2), ("samples", args.samples, 1), ("window", args.window, 1)):
        if value is not None and value < least:
            raise InputError(f"--{name} must be at least {least}, got {value}", fix=f"e.g. --{name} {max(least, 8)}")
    if not args.noise >= 0:
        raise InputError(f"--noise must be >= 0, got {args.noise}", fix="e.g. --noise 0.15")


def _out_dir(args) -> Path:
    from dlcc.commands.outputs import writable_out_dir

    return writable_out_dir(Path(args.out) if args.out else Path(args.run_dir) / f"explain-{Path(args.image).stem}", args.force)


def cmd_explain(args) -> int:
    import numpy as np
    import torch

    from dlcc.interpret import RegionScore, attribute, to_map
    from dlcc.interpret.figures import plot_overlays
    from dlcc.models.pixels import pixel_model
    from dlcc.recipes import load_run
    from dlcc.recipes._model_input import run_task
    from dlcc.recipes._samples import image_spec, read_image
    from dlcc.utils.io import write_json

    methods = _methods(args.method)
    _check_options(args)
    run = load_run(args.run_dir)
    if not isinstance(run.model, torch.nn.Module):
        raise InputError(f"{args.run_dir} holds a NumPy model ({run.recipe.name}); explain needs a PyTorch run",
                         fix="explain a run of a PyTorch image model")
    task = run_task(run)
    if task not in ("classification", "segmentation"):
        raise InputError(f"{args.run_dir} is a {task} run; `dlcc explain` explains image models",
                         fix="explain an image classifier or a U-Net run")
    # An option of the other task would be silently ignored: say so instead.
    if task == "classification" and args.region:
        raise InputError(f"--region is for segmentation runs; {args.run_dir} is a classifier",
                         fix="choose the class to explain with --target (a name or index)")
    if task == "segmentation" and args.target is not None:
        raise InputError(f"--target is for classifiers; {args.run_dir} is a segmentation run",
                         fix="choose what to explain with --region top,left,bottom,right")
    spec = image_spec(run, task)
    out = _out_dir(args)
    log = (lambda line: print(line, file=sys.stderr)) if args.json else print
    x = read_image(args.image, spec, log)[None]
    h, w = x.shape[-2:]
    info: dict = {"run": str(args.run_dir), "recipe": run.recipe.name, "image": str(args.image), "task": task}
    region = None
    if task == "classification":
        model = pixel_model(run.model, run.preprocessing).eval()
        classes = [str(c) for c in (run.labels or range(10))]
        with torch.no_grad():
            probs = torch.softmax(model(x), 1)[0]
        target = _target(args.target, classes, int(probs.argmax()))
        info.update(predicted=classes[int(probs.argmax())], target=classes[target],
                    probability=round(float(probs[target]), 4))
        what = f"{classes[target]} (p = {float(probs[target]):.3f})"
    else:
        network = run.model.eval()
        if args.region:
            region = _region(args.region, h, w)
        else:
            with torch.no_grad():
                region = torch.sigmoid(network(x))[0, 0] > float(run.artifacts.get("threshold", 0.5))
            if not bool(region.any()):
                log("notice: the U-Net predicts no foreground here; explaining the mean logit of the whole image")
                region = None
        model, target = RegionScore(network, region).eval(), None
        info.update(region=args.region or ("predicted foreground" if region is not None else "whole image"),
                    region_pixels=int(region.sum()) if region is not None else h * w)
        what = f"mask score in {info['region']}"
    window = args.window or max(2, min(h, w) // 8)
    options = {"smoothgrad": {"samples": args.samples, "noise": args.noise,
                              "generator": torch.Generator().manual_seed(args.seed)},
               "integrated_gradients": {"steps": args.steps}, "gradcam": {"layer": args.layer},
               "occlusion": {"window": (window, window), "stride": (max(1, window // 2),) * 2}}
    maps = {}
    for method in methods:
        log(f"{method} ...")
        maps[method] = to_map(method, attribute(method, model, x, target, **options.get(method, {})))[0]
    out.mkdir(parents=True, exist_ok=True)
    plot_overlays(x[0], maps, out / "overlays.png", f"{run.recipe.name}: {what}", region)
    np.savez_compressed(out / "maps.npz", image=x[0].numpy(), **{k: v.numpy() for k, v in maps.items()})
    info.update(methods=methods, files=[str(out / f) for f in ("overlays.png", "maps.npz", "explain.json")],
                options={"steps": args.steps, "samples": args.samples, "noise": args.noise, "window": window,
                         "layer": args.layer, "seed": args.seed})
    write_json(out / "explain.json", info)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"explained {what} with {', '.join(methods)}; wrote {out / 'overlays.png'} and {out / 'maps.npz'}")
    return 0
