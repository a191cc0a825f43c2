"""`dlcc attack RUN_DIR [--eps 0,2/255,8/255] [--attack pgd|fgsm] [--norm linf|l2] [--steps 20]
[--restarts 1] [--n 1000 | --images DIR] [--out DIR] [--force] [--json]`.

Accuracy of a trained classifier under attack at each ε, on its test split (or labelled image
folders): writes attack.json, accuracy_vs_eps.png and examples.png (true → predicted).
"""

from __future__ import annotations

import json
import re
import sys
from fractions import Fraction
from pathlib import Path

from dlcc.errors import InputError

DEFAULT_EPS = "0,1/255,2/255,4/255,8/255,16/255"


def register(sub) -> None:
    p = sub.add_parser("attack", help="accuracy of a trained classifier under FGSM / PGD attacks, per epsilon")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished classifier run (written by `dlcc run`)")
    p.add_argument("--eps", help=f"attack sizes, comma-separated; fractions allowed (default for images: "
                                 f"{DEFAULT_EPS}, in pixel units [0, 1])")
    p.add_argument("--attack", default="pgd", choices=["pgd", "fgsm"], help="attack (default pgd)")
    p.add_argument("--norm", default="linf", choices=["linf", "l2"], help="PGD's norm (default linf)")
    p.add_argument("--steps", type=int, default=20, help="PGD steps (default 20)")
    p.add_argument("--restarts", type=int, default=1, help="PGD random restarts (default 1)")
    p.add_argument("--n", type=int, default=1000, help="test samples attacked (default 1000)")
    p.add_argument("--images", metavar="DIR", help="attack these labelled images instead (DIR/<class name>/*.png)")
    p.add_argument("--examples", type=int, default=6, help="examples in examples.png (default 6)")
    p.add_argument("--batch-size", type=int, default=250, help="samples per attack batch (default 250)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and the random starts")
    p.add_argument("--out", metavar="DIR", help="output folder (default RUN_DIR/attack-<attack>-<norm>)")
    p.add_argument("--force", action="store_true", help="write into an output folder that already has files")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_attack)


def parse_eps(text: str) -> list[float]:
    """"0, 2/255, 0.03" → [0.0, 0.00784..., 0.03]; anything else is an `InputError`."""
    values = []
    for part in (p.strip() for p in re.split(r"[,\s]+", text.strip()) if p.strip()):
        try:
            values.append(float(Fraction(part)))
        except (ValueError, ZeroDivisionError):
            raise InputError(f"--eps {text!r}: {part!r} is not a number or a fraction",
                             fix="e.g. --eps 0,2/255,8/255") from None
    if not values:
        raise InputError("--eps is empty", fix="e.g. --eps 0,2/255,8/255")
    return values


def _check_counts(args) -> None:
    for name in ("n", "steps", "restarts", "batch_size"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}",
                             fix=f"e.g. --{name.replace('_', '-')} {dict(n=1000, steps=20).get(name, 1)}")
    if args.examples < 0:
        raise InputError(f"--examples must be >= 0, got {args.examples}", fix="e.g. --examples 6")


def _out_dir(args) -> Path:
    from dlcc.commands.outputs import writable_out_dir

    return writable_out_dir(Path(args.out) if args.out else Path(args.run_dir) / f"attack-{args.attack}-{args.norm}", args.force)


def cmd_attack(args) -> int:
    import torch

    from dlcc.attacks import accuracy_under_attack, check_eps, make_attack
    from dlcc.attacks.evaluate import attack_all, predict
    from dlcc.attacks.figures import plot_accuracy_curve, plot_examples
    from dlcc.models.pixels import pixel_model
    from dlcc.recipes import load_run
    from dlcc.recipes._model_input import run_task
    from dlcc.recipes._samples import image_folder, image_spec, test_samples
    from dlcc.utils.io import write_json

    _check_counts(args)
    eps_values = parse_eps(args.eps) if args.eps else None
    run = load_run(args.run_dir)
    if not isinstance(run.model, torch.nn.Module):
        raise InputError(f"{args.run_dir} holds a NumPy model ({run.recipe.name}); attacks need a PyTorch run",
                         fix="attack a run of a PyTorch classifier (e.g. cifar10-fast)")
    task = run_task(run)
    if task != "classification":
        raise InputError(f"{args.run_dir} is a {task} run; `dlcc attack` measures classifiers",
                         fix="attack a classifier run (e.g. cifar10-fast, mnist1d-cnn)")
    out = _out_dir(args)
    images = len(run.preprocessing.get("shape") or []) == 3
    bounds = (0.0, 1.0) if images else None       # pixels; signals have no fixed range
    if eps_values is None:
        if not images:
            raise InputError(f"{run.recipe.name} takes signals, whose units dlcc cannot guess",
                             fix="give --eps in the signal's units, e.g. --eps 0,0.1,0.3")
        eps_values = parse_eps(DEFAULT_EPS)
    eps_values = [check_eps(e, args.norm, bounds) for e in eps_values]   # before any data is read
    log = (lambda line: print(line, file=sys.stderr)) if args.json else print
    if args.images:
        samples = image_folder(args.images, [str(c) for c in run.labels], image_spec(run, task), args.n, log)
    else:
        samples = test_samples(run, args.n, args.seed)
    model = pixel_model(run.model, run.preprocessing).eval()
    generator = torch.Generator().manual_seed(args.seed)
    attack = make_attack(args.attack, norm=args.norm, steps=args.steps, restarts=args.restarts,
                         bounds=samples.bounds, generator=generator)
    name = f"{args.attack.upper()}" + (f"-{args.steps} {args.norm}" if args.attack == "pgd" else "")
    log(f"{name} on {len(samples.y)} samples of {samples.source}, eps {', '.join(f'{e:.4g}' for e in eps_values)}")
    rows = accuracy_under_attack(model, samples.x, samples.y, eps_values, attack, batch_size=args.batch_size,
                                 norm=args.norm, bounds=samples.bounds, progress=log)
    out.mkdir(parents=True, exist_ok=True)
    unit = 1 / 255 if images and args.norm == "linf" else None
    title = f"{run.recipe.name}: {name}"
    plot_accuracy_curve({name: rows}, out / "accuracy_vs_eps.png", title, eps_unit=unit)
    if args.examples:
        pick = torch.linspace(0, len(samples.y) - 1, min(args.examples, len(samples.y))).round().long()
        x, y = samples.x[pick], samples.y[pick]          # spread over the sample (test splits are often sorted)
        columns = {("clean" if e == 0 else f"ε={e / unit:.3g}/255" if unit else f"ε={e:.3g}"):
                   attack_all(model, x, y, e, attack) for e in eps_values}
        with torch.no_grad():
            preds = {key: predict(model, value).tolist() for key, value in columns.items()}
        plot_examples(columns, preds, y.tolist(), samples.classes, out / "examples.png", title)
    result = {"run": str(args.run_dir), "recipe": run.recipe.name, "attack": args.attack, "norm": args.norm,
              "steps": args.steps if args.attack == "pgd" else 1, "restarts": args.restarts, "seed": args.seed,
              "samples": len(samples.y), "source": samples.source, "rows": rows,
              "files": [str(out / f) for f in ("accuracy_vs_eps.png", "examples.png") if (out / f).exists()]}
    write_json(out / "attack.json", result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print("| eps | accuracy | correct |\n|---|---|---|")
        for r in rows:
            print(f"| {r['eps']:.5g}" + (f" ({r['eps'] * 255:.3g}/255)" if unit else "")
                  + f" | {r['accuracy']:.4f} | {r['correct']}/{r['n']} |")
        print(f"wrote {out / 'attack.json'}, {out / 'accuracy_vs_eps.png'}"
              + (f", {out / 'examples.png'}" if args.examples else ""))
    return 0
